//! Random Markdown for the renderers' property tests, from one seeded generator (xorshift), so
//! every run tests the same documents and a failing case is reproduced from its seed:
//! - [`token_soup`]: documents glued from a renderer's list of tricky tokens (markup characters,
//!   injection attempts, astral characters), each renderer choosing its own list;
//! - [`document`]: structured documents with every construct the agent writes, plus the hostile
//!   shapes a splitter trips on — fences whose opening line is longer than a message, backtick
//!   runs longer than a fence, unclosed fences, endless lines, deep nesting, link reference
//!   definitions, raw HTML.

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Usually small, now and then very large: the sizes splitters get wrong.
    fn size(&mut self) -> usize {
        match self.below(10) {
            0 => 100 + self.below(400),
            1..=3 => 10 + self.below(100),
            _ => 1 + self.below(10),
        }
    }
}

const WORDS: &[&str] = &[
    "word",
    "fn",
    "x",
    "café",
    "naïve",
    "Привет",
    "你好",
    "🚀",
    "👩‍💻",
    "a_b",
    "2*3",
    "<b>",
    "&amp;",
    "\\",
    "|",
    "~",
    "`",
    "@here",
    "<@U1>",
    "http://x.io/a_b",
    "[",
    "]",
    "(",
    ")",
    "#",
    "*",
    "_",
    "**",
    "__",
    "~~",
    ">",
    "-",
    "1.",
    "!",
    "\u{200B}",
    "\t",
];

/// Inline text: words with styles, code spans and links.
fn inline(rng: &mut Rng, words: usize) -> String {
    let mut out = String::new();
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        let word = rng.pick(WORDS);
        match rng.below(12) {
            0 => out.push_str(&format!("**{word}**")),
            1 => out.push_str(&format!("_{word}_")),
            2 => out.push_str(&format!("`{word}`")),
            3 => out.push_str(&format!("~~{word}~~")),
            4 => out.push_str(&format!(
                "[{word}](https://example.com/{}?q={word})",
                "p".repeat(rng.size())
            )),
            5 => out.push_str(&format!("![{word}](http://img/{word}.png)")),
            _ => out.push_str(word),
        }
    }
    out
}

fn fence_block(rng: &mut Rng) -> String {
    let marker = if rng.below(4) == 0 { '~' } else { '`' };
    let fence = marker
        .to_string()
        .repeat(3 + rng.below(3) + rng.size() / 50);
    let info = match rng.below(4) {
        0 => String::new(),
        1 => "rust".to_owned(),
        _ => "info".repeat(rng.size()),
    };
    let lines: Vec<String> = (0..rng.size())
        .map(|_| match rng.below(5) {
            0 => "`".repeat(rng.size()),
            1 => "x".repeat(rng.size()),
            _ => {
                let words = 1 + rng.below(8);
                inline(rng, words)
            }
        })
        .collect();
    // Sometimes left unclosed: it runs to the end of the document.
    let close = if rng.below(8) == 0 {
        ""
    } else {
        fence.as_str()
    };
    format!("{fence}{info}\n{}\n{close}", lines.join("\n"))
}

fn block(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth > 3 { 8 } else { 11 }) {
        0 | 1 => {
            let words = rng.size();
            inline(rng, words)
        }
        2 => fence_block(rng),
        3 => format!("{} {}", "#".repeat(1 + rng.below(6)), inline(rng, 3)),
        4 => "    indented code ".repeat(1 + rng.below(3)),
        5 => "| a | b |\n|---|:-:|\n| 1 | `x|y` |".to_owned(),
        6 => format!(
            "[ref{}]: http://example.com/{}",
            rng.below(3),
            "r".repeat(rng.size())
        ),
        7 => format!("<div>\n{}\n</div>", inline(rng, 3)),
        8 => (0..1 + rng.below(4))
            .map(|i| {
                format!(
                    "{}. {}",
                    i + 1,
                    block(rng, depth + 1).replace('\n', "\n   ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        9 => format!("> {}", block(rng, depth + 1).replace('\n', "\n> ")),
        _ => format!("- {}", block(rng, depth + 1).replace('\n', "\n  ")),
    }
}

/// A document of a few blocks, from `seed`.
pub fn document(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let blocks: Vec<String> = (0..1 + rng.below(6)).map(|_| block(&mut rng, 0)).collect();
    let separator = if rng.below(5) == 0 { "\n" } else { "\n\n" };
    blocks.join(separator)
}

/// `count` documents of 1 to `max_tokens` tokens drawn from `tokens`.
pub fn token_soup(tokens: &[&str], seed: u64, count: usize, max_tokens: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let len = 1 + rng.below(max_tokens);
            (0..len).map(|_| rng.pick(tokens)).collect()
        })
        .collect()
}
