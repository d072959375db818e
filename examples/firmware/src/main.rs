//! zzz on a Cortex-M4: HTTP/1.1 over UART0 of QEMU's `mps2-an386` board.
//!
//! One `Server` of the `no_std`, heap-free core, over one `static` memory region, serves the
//! routes of [`app`] through `zzz_core::shim::blocking::serve_connection`, one connection
//! after the other, on the CMSDK UART ([`uart`]). SysTick is the clock ([`clock`]), defmt
//! over semihosting the log, and the stack's paint tells its high-water mark ([`stack`]).
//!
//! A UART carries bytes, not connections: a connection ends when the server closes it or when
//! the line has been quiet for [`uart::QUIET_MS`], and the next one starts once the line has
//! been quiet that long (the resynchronisation rule; see [`uart`] and the README).
//!
//! `ci/firmware.sh` builds it, runs it under QEMU with UART0 on a TCP port, and checks it with
//! Python's `http.client`, raw sockets and curl.
#![no_std]
#![no_main]

mod clock;
mod stack;
mod uart;

use askama::Template;
use cortex_m_rt::{ExceptionFrame, entry, exception};
use defmt_semihosting as _;
use serde::Serialize;
use zzz_core::http::Limits;
use zzz_core::shim::blocking::serve_connection;
use zzz_core::{
    App, Config, Ctx, Http, PeerAddr, Request, Response, Route, Server, Sole, Status, Timeouts,
    sized_router,
};

use crate::uart::Uart;

/// The server's capacities, sized for a microcontroller:
///
/// - 4 connections' worth of slots. The UART serves one connection at a time, so one would
///   do; 4 keeps the firmware's memory figures those of a small multi-connection server (a
///   TCP/IP stack on the same board would use them).
/// - 2 KiB receive and send buffers per connection: a request head must fit the receive
///   buffer, so `max_head` is 2 KiB too and `max_request_line` 1 KiB; 24 header fields are
///   plenty for curl, `http.client` and browsers.
/// - One large buffer of 4 KiB for bodies and responses that outgrow a connection's buffers
///   (`Config::validate`: at least `max_body`, `recv_buffer` and `send_buffer`); a second
///   request needing one while it is lent gets `503` with `Retry-After`.
/// - Chunk extensions and trailers at 256 bytes each: they are reserved beside the large
///   buffer (`Config::block_size`), so the defaults (4 KiB each) would triple it.
/// - A 10 ms timer tick: the SysTick clock is exact to the millisecond, and the wheel's size
///   does not depend on it.
/// - The default timeouts; in practice the UART's quiet rule ([`uart::QUIET_MS`]) ends a
///   silent connection first.
/// - No UDP.
pub const CONFIG: Config = Config {
    max_connections: 4,
    pressure_percent: 75,
    recv_buffer: 2 * 1024,
    send_buffer: 2 * 1024,
    large_buffers: 1,
    large_buffer_size: 4 * 1024,
    max_requests_per_connection: 1000,
    timer_tick_ms: 10,
    limits: Limits {
        max_request_line: 1024,
        max_head: 2 * 1024,
        max_headers: 24,
        max_body: 4 * 1024,
        max_chunk_extensions: 256,
        max_trailers: 256,
    },
    timeouts: Timeouts::DEFAULT,
    datagram_size: 0,
    datagram_replies: 0,
    topics: zzz_core::Topics::DEFAULT,
};

const _: () = assert!(
    CONFIG.validate().is_ok(),
    "CONFIG is not a valid configuration"
);

/// Bytes of the static region the server is carved from: exactly what an HTTP/1.1 app needs
/// with [`CONFIG`], computed by the compiler (`Config::memory` is a `const fn`). A
/// configuration too large for the board's RAM fails to link.
pub const REGION_BYTES: usize = CONFIG.memory().total;

/// The app's state: what the handlers share.
#[derive(Debug, Default)]
pub struct Board {
    /// Requests the handlers have answered since reset.
    served: u32,
}

/// `/hello/{name}`, rendered by askama into the send buffer.
#[derive(Template)]
#[template(path = "hello.html")]
struct HelloPage<'a> {
    /// Whom to greet, from the path.
    name: &'a str,
    /// Requests answered since reset, this one included.
    served: u32,
}

/// A sensor reading, as `GET /sensors/{id}` answers it.
#[derive(Serialize)]
struct Reading {
    /// The sensor.
    id: u32,
    /// Its temperature, made up from the id: `18 + id % 8`.
    celsius: i32,
}

/// What `GET /stack` answers.
#[derive(Serialize)]
struct StackUse {
    /// The most bytes of stack used since reset.
    peak_bytes: usize,
    /// The most bytes of stack used since the server was built (building the router goes
    /// deeper, which `peak_bytes` includes), counted from the top.
    serving_peak_bytes: usize,
    /// The bytes the stack may grow into: from the top of RAM down to the end of `.bss`.
    available_bytes: usize,
    /// Milliseconds since reset, by SysTick.
    uptime_ms: u64,
}

/// What `POST /echo` answers when asked for JSON (`Accept: application/json`).
#[derive(Serialize)]
struct EchoSummary {
    /// Bytes of the request body.
    length: usize,
}

/// The home page.
const INDEX: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>zzz firmware</title></head><body><h1>zzz on a Cortex-M4</h1>\
<p>HTTP/1.1 over UART0 of an mps2-an386 board.</p><ul>\
<li><a href=\"/sensors/3\">/sensors/{id}</a></li>\
<li><a href=\"/hello/world\">/hello/{name}</a></li>\
<li>POST /echo</li><li><a href=\"/stack\">/stack</a></li></ul></body></html>\n";

/// `GET /`: the home page.
fn index(ctx: &mut Ctx<Board>, _req: &Request) -> Response {
    ctx.state.served += 1;
    ctx.html(Status::OK, INDEX)
}

/// `GET /sensors/{id:u32}`: a reading as JSON.
fn sensor(ctx: &mut Ctx<Board>, req: &Request) -> Response {
    ctx.state.served += 1;
    // The route's `u32` type has already rejected what does not parse.
    let Ok(id) = req.param::<u32>("id") else {
        return ctx.text(Status::BAD_REQUEST, "sensor id: not a u32\n");
    };
    let reading = Reading {
        id,
        celsius: 18 + (id % 8) as i32,
    };
    ctx.out.respond(Status::OK).json(&reading)
}

/// `GET /hello/{name}`: an askama page greeting the decoded name.
fn hello(ctx: &mut Ctx<Board>, req: &Request) -> Response {
    ctx.state.served += 1;
    // The segment percent-decoded, up to 64 bytes; the template escapes it for HTML.
    let mut decoded = [0u8; 64];
    let Ok(name) = req.params().decode("name", &mut decoded) else {
        return ctx.text(
            Status::BAD_REQUEST,
            "name: bad percent-encoding, or longer than 64 bytes\n",
        );
    };
    let page = HelloPage {
        name,
        served: ctx.state.served,
    };
    ctx.template(Status::OK, &page)
}

/// `POST /echo`: the request body back, with the request's `Content-Type`; or, for a client
/// that accepts only JSON, `{"length":N}`.
fn echo(ctx: &mut Ctx<Board>, req: &Request) -> Response {
    ctx.state.served += 1;
    let body = req.body();
    if req.header_str("Accept") == Some("application/json") {
        let summary = EchoSummary { length: body.len() };
        return ctx.out.respond(Status::OK).json(&summary);
    }
    let content_type = req
        .header_str("Content-Type")
        .unwrap_or("application/octet-stream");
    ctx.out
        .respond(Status::OK)
        .header("Content-Type", content_type)
        .body(body)
}

/// `GET /stack`: the stack's high-water mark as JSON.
fn stack_use(ctx: &mut Ctx<Board>, _req: &Request) -> Response {
    ctx.state.served += 1;
    let usage = StackUse {
        peak_bytes: stack::peak(),
        serving_peak_bytes: stack::serving_peak(),
        available_bytes: stack::size(),
        uptime_ms: clock::millis(),
    };
    ctx.out.respond(Status::OK).json(&usage)
}

/// The route table; anything else gets the core's `404`, a known path with another method
/// its `405` with `Allow`.
static ROUTES: &[Route<Board>] = &[
    Route::get("/", index),
    Route::get("/sensors/{id:u32}", sensor),
    Route::get("/hello/{name}", hello),
    Route::post("/echo", echo),
    Route::get("/stack", stack_use),
];

/// The router, its index sized for [`ROUTES`] by the compiler: a few hundred bytes, where the
/// largest table zzz accepts ([`zzz_core::Router::new`]) would take 61 KB of this board's RAM.
type BoardRouter = sized_router!(Board, ROUTES);

/// The app: its state and its router, built in one place (its type is the one the server and
/// the memory figures name).
fn app() -> App<Board, Http<Board, BoardRouter>> {
    App::new(
        Board::default(),
        BoardRouter::build(ROUTES).unwrap_or_else(|error| {
            defmt::error!("the route table is invalid: {}", error);
            panic!("invalid route table")
        }),
    )
}

/// The server of [`app`], over the static region.
type BoardServer = Server<'static, Board, Http<Board, BoardRouter>>;

#[entry]
fn main() -> ! {
    // cortex-m-rt turns this into a `&'static mut` taken once, here: the region the server is
    // carved from, in `.bss`.
    static mut REGION: [u8; REGION_BYTES] = [0; REGION_BYTES];

    let peripherals = cortex_m::Peripherals::take().expect("the core peripherals, taken once");
    clock::start(peripherals.SYST);
    // SAFETY: the only `Uart`: nothing else in the firmware touches UART0.
    let mut uart = unsafe { Uart::uart0() };

    let mut server = build_server(REGION);
    let startup_peak = stack::peak();
    let in_use = stack::repaint();
    defmt::info!(
        "serving HTTP/1.1 on UART0 ({=u32} baud); quiet gap {=u64} ms; stack peak {=usize} B at startup, {=usize} B in use now",
        uart::BAUD,
        uart::QUIET_MS,
        startup_peak,
        in_use
    );

    let mut connection: u32 = 0;
    let mut silent: u32 = 0;
    // Bounded: firmware serves until reset; each turn is one connection, itself bounded by
    // serve_connection and the quiet rule.
    loop {
        connection = connection.wrapping_add(1);
        let responses_before = responses(&server);
        if let Err(error) =
            serve_connection(&mut server, &mut uart, Sole, PeerAddr::Local, clock::now)
        {
            defmt::warn!("connection {=u32} refused: {}", connection, error);
        }
        let answered = responses(&server) - responses_before;
        let dropped = uart.discard_until_quiet();
        // A quiet line ends a connection every QUIET_MS: those that answered nothing and
        // dropped nothing are only counted, in the next line logged.
        if answered == 0 && dropped == 0 {
            silent = silent.wrapping_add(1);
            continue;
        }
        defmt::info!(
            "connection {=u32} closed: {=u64} responses, {=usize} bytes dropped resynchronising ({=u32} silent before it); stack peak {=usize} B, {=usize} B since startup",
            connection,
            answered,
            dropped,
            silent,
            stack::peak(),
            stack::serving_peak()
        );
        silent = 0;
    }
}

/// Builds the server of [`app`] over `region`, logging the memory figures. Not inlined, so
/// that the temporaries of building it (the router's build-time checks, the app moved into
/// the server) live in this frame, gone once serving starts, and not in `main`'s.
#[inline(never)]
fn build_server(region: &'static mut [u8]) -> BoardServer {
    let app = app();
    let budget = app.memory(&CONFIG);
    defmt::info!("zzz firmware: {}", budget);
    defmt::info!(
        "memory: region {=usize} B (needed {=usize} B); Router {=usize} B, App {=usize} B, Server {=usize} B; stack room {=usize} B",
        REGION_BYTES,
        budget.total,
        size_of::<BoardRouter>(),
        size_of::<App<Board, Http<Board, BoardRouter>>>(),
        size_of::<BoardServer>(),
        stack::size()
    );
    assert_eq!(
        budget.total, REGION_BYTES,
        "an HTTP/1.1 app's budget is Config::memory's"
    );
    Server::new(CONFIG, app, region, clock::now()).unwrap_or_else(|error| {
        defmt::error!("no server: {}", error);
        panic!("no server")
    })
}

/// Responses the server has sent since reset, every status class.
fn responses(server: &BoardServer) -> u64 {
    server.stats().responses.iter().sum()
}

/// A fault ends the run with a failure code, so that QEMU exits instead of spinning. A panic
/// is a fault too: built with the `immediate-abort` panic strategy (`.cargo/config.toml`), a
/// failed assertion or bounds check is an undefined instruction, which escalates to HardFault;
/// its `pc` names the place (`addr2line -e ELF PC`).
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("hard fault at pc {=u32:#x}", frame.pc());
    semihosting::process::exit(1)
}

defmt::timestamp!("{=u64:ms}", clock::millis());
