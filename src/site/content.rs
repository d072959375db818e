//! What the site says: its identity, the about page and the posts, as static data.

/// A part of the site, for marking the current one in the navigation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Section {
    /// The home page.
    Home,
    /// The blog index and the posts.
    Blog,
    /// The about page.
    About,
    /// Anything else (the 404 page).
    Elsewhere,
}

/// One link of the navigation bar or of a list.
#[derive(Debug)]
pub struct Link {
    /// Where it points.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// The part of the site it leads to.
    pub section: Section,
}

/// What every page shows: the site's name, its author, its navigation.
#[derive(Debug)]
pub struct Site {
    /// The site's name, in the title bar and the masthead.
    pub name: &'static str,
    /// The author.
    pub author: &'static str,
    /// One sentence about the site.
    pub tagline: &'static str,
    /// The year in the footer.
    pub year: u16,
    /// The navigation bar.
    pub nav: &'static [Link],
}

/// One block of a post's text. Everything is plain text, escaped when rendered.
#[derive(Debug)]
pub enum Block {
    /// A paragraph.
    Paragraph(&'static str),
    /// A section heading.
    Heading(&'static str),
    /// A code listing.
    Code(&'static str),
    /// A quotation.
    Quote(&'static str),
}

/// A blog post.
#[derive(Debug)]
pub struct Post {
    /// Its path segment: `/blog/{slug}`.
    pub slug: &'static str,
    /// The title.
    pub title: &'static str,
    /// The publication date, ISO 8601.
    pub date: &'static str,
    /// One or two sentences for the index.
    pub summary: &'static str,
    /// Tags.
    pub tags: &'static [&'static str],
    /// The text.
    pub body: &'static [Block],
}

/// The about page's content.
#[derive(Debug)]
pub struct About {
    /// Paragraphs about the author.
    pub paragraphs: &'static [&'static str],
    /// What the author is doing now.
    pub now: &'static [&'static str],
    /// Links elsewhere.
    pub links: &'static [Link],
}

/// The site.
pub static SITE: Site = Site {
    name: "Sam Rivera",
    author: "Sam Rivera",
    tagline: "Notes on servers that allocate nothing after startup, protocols read clause by \
              clause, and the occasional long walk.",
    year: 2026,
    nav: &[
        Link {
            href: "/",
            label: "Home",
            section: Section::Home,
        },
        Link {
            href: "/blog",
            label: "Blog",
            section: Section::Blog,
        },
        Link {
            href: "/about",
            label: "About",
            section: Section::About,
        },
    ],
};

/// The about page.
pub static ABOUT: About = About {
    paragraphs: &[
        "I build network software: parsers, event loops, and the tests that keep them honest. \
         This site is served by zzz, a socket-server framework whose core takes all of its \
         memory at startup and never asks for more.",
        "Every page you read here was rendered from a template that the Rust compiler checked \
         against the data it shows, straight into the buffer the server sends from.",
    ],
    now: &[
        "Reading RFC 9110 one section a day.",
        "Measuring what a template costs when it renders into a socket buffer.",
        "Walking the coast path on weekends.",
    ],
    links: &[
        Link {
            href: "/blog",
            label: "The blog",
            section: Section::Blog,
        },
        Link {
            href: "/static/robots.txt",
            label: "robots.txt (an embedded asset)",
            section: Section::Elsewhere,
        },
    ],
};

/// The posts, newest first.
pub static POSTS: &[Post] = &[
    Post {
        slug: "templates-at-compile-time",
        title: "Templates at compile time",
        date: "2026-03-14",
        summary: "A page template that the compiler type-checks, rendered into the socket \
                  buffer with no allocation and no second copy.",
        tags: &["rust", "templates"],
        body: &[
            Block::Paragraph(
                "A template engine that parses its templates at run time pays for it twice: \
                 once in time on every request, once in the errors it finds only in \
                 production. askama moves both to the compiler.",
            ),
            Block::Heading("Straight into the buffer"),
            Block::Paragraph(
                "zzz hands the template a writer over the connection's send buffer. The \
                 length is known only at the end, so the head leaves a gap for \
                 Content-Length and fills it in when the page is done.",
            ),
            Block::Code(
                "fn post(ctx: &mut Ctx<Site>, req: &Request) -> Response {\n    \
                 ctx.template(Status::OK, &PostPage { post, .. })\n}",
            ),
            Block::Paragraph(
                "Escaping is the default: a title like <b>bold</b> shows its angle brackets \
                 instead of becoming markup.",
            ),
        ],
    },
    Post {
        slug: "no-heap-after-startup",
        title: "No heap after startup",
        date: "2026-02-02",
        summary: "Why a server that reserves all of its memory up front is easier to reason \
                  about, and what it costs.",
        tags: &["design", "memory"],
        body: &[
            Block::Paragraph(
                "Every capacity is a field of one configuration: connections, buffer sizes, \
                 headers, timers. The memory they need is computed, taken once, and printed.",
            ),
            Block::Quote("A limit on every loop and every queue, stated where it is declared."),
            Block::Paragraph(
                "When a limit is reached the outcome is defined: a status code, never a hang. \
                 A page too large for its buffers is a 500 with a log line, never a page cut \
                 in half.",
            ),
        ],
    },
    Post {
        slug: "reading-rfc-9110",
        title: "Reading RFC 9110 & friends",
        date: "2026-01-10",
        summary: "Conditional requests, content codings and the quiet precision of \"weak \
                  comparison\".",
        tags: &["http"],
        body: &[
            Block::Paragraph(
                "If-None-Match compares entity tags weakly: W/\"x\" matches \"x\". A list may \
                 hold several tags, and * matches any current representation.",
            ),
            Block::Paragraph(
                "Accept-Encoding carries weights from 0 to 1 with at most three decimals; \
                 identity;q=0 means the client would rather have nothing than an \
                 uncompressed body.",
            ),
        ],
    },
    Post {
        slug: "hello-world",
        title: "Hello, world",
        date: "2025-12-24",
        summary: "The first post: what this site is and how it is served.",
        tags: &[],
        body: &[Block::Paragraph(
            "This is a small site served by a small server. The pages are templates compiled \
             into the binary; the stylesheet is embedded too, with a gzip copy made at build \
             time.",
        )],
    },
];
