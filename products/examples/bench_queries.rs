//! Write diverse `GET /` queries for the products benchmark, one path per
//! line, every line different, from a seeded generator (the same seed gives
//! the same list), over the vocabulary of [`products::synthetic`]:
//!
//! `cargo run --release -p products --example bench_queries -- MIX COUNT [SEED]`
//!
//! * `browse`: a sort and page 1-200; or a category, a sort and page 1-50;
//!   or a brand, a price range and `in_stock=true`.
//! * `search`: one noun; a title word and a noun; or two words of titles and
//!   descriptions; page 1-5.
//! * `facets`: a category, a minimum price, `in_stock=true`, page 1-3 and
//!   `facets=category,brand,price`.
//!
//! Every query also draws its page size (10 to 50), so the lists are long
//! enough that no request repeats within a benchmark run.
//! `bench/products/run.sh` (`MODE=diverse`) feeds the lists to wrk through
//! `bench/products/diverse.lua`.

use std::collections::HashSet;
use std::io::{BufWriter, Write};

use products::synthetic::{NOUNS, WORDS};

/// Words of the synthetic descriptions besides the nouns.
const DESCRIPTION_WORDS: [&str; 6] = [
    "synthetic",
    "product",
    "benchmarks",
    "sturdy",
    "everyday",
    "use",
];
const SORTS: [&str; 6] = [
    "price",
    "-price",
    "created_at",
    "-created_at",
    "title",
    "-title",
];
const PAGE_SIZES: [u64; 10] = [10, 12, 16, 20, 24, 25, 30, 36, 40, 50];

/// SplitMix64: small, seeded, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = usize::try_from(self.next() % items.len() as u64).unwrap_or(0);
        items[index]
    }
}

fn browse(rng: &mut Rng) -> String {
    let per_page = PAGE_SIZES[rng.between(0, 9) as usize];
    match rng.between(0, 2) {
        0 => format!(
            "/?sort={}&page={}&per_page={per_page}",
            rng.pick(&SORTS),
            rng.between(1, 200)
        ),
        1 => format!(
            "/?category=Category%20{}&sort={}&page={}&per_page={per_page}",
            rng.between(0, 9),
            rng.pick(&SORTS),
            rng.between(1, 50)
        ),
        _ => {
            let min = rng.between(1, 400);
            format!(
                "/?brand=Brand%20{}&min_price={min}&max_price={}&in_stock=true&per_page={per_page}",
                rng.between(0, 19),
                min + rng.between(10, 100)
            )
        }
    }
}

fn search(rng: &mut Rng) -> String {
    let per_page = PAGE_SIZES[rng.between(0, 9) as usize];
    let page = rng.between(1, 5);
    let noun = |rng: &mut Rng| rng.pick(&NOUNS).to_lowercase();
    let q = match rng.between(0, 2) {
        0 => noun(rng),
        1 => format!("{}+{}", rng.pick(&WORDS).to_lowercase(), noun(rng)),
        _ => {
            let mut vocabulary: Vec<&str> = WORDS.iter().chain(NOUNS.iter()).copied().collect();
            vocabulary.extend(DESCRIPTION_WORDS);
            let first = rng.pick(&vocabulary).to_lowercase();
            let mut second = rng.pick(&vocabulary).to_lowercase();
            while second == first {
                second = rng.pick(&vocabulary).to_lowercase();
            }
            format!("{first}+{second}")
        }
    };
    format!("/?q={q}&page={page}&per_page={per_page}")
}

fn facets(rng: &mut Rng) -> String {
    format!(
        "/?category=Category%20{}&min_price={}&in_stock=true&page={}&per_page={}&facets=category,brand,price",
        rng.between(0, 9),
        rng.between(1, 450),
        rng.between(1, 3),
        PAGE_SIZES[rng.between(0, 9) as usize]
    )
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench_queries browse|search|facets COUNT [SEED]";
    let mix = args.next().ok_or_else(|| anyhow::anyhow!(usage))?;
    let count: usize = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(33);
    let generate: fn(&mut Rng) -> String = match mix.as_str() {
        "browse" => browse,
        "search" => search,
        "facets" => facets,
        _ => anyhow::bail!(usage),
    };
    let mut rng = Rng(seed);
    let mut seen = HashSet::with_capacity(count);
    let mut out = BufWriter::new(std::io::stdout().lock());
    // Bounded: a mix whose space is smaller than COUNT stops with an error.
    let mut attempts = 0usize;
    while seen.len() < count {
        attempts += 1;
        if attempts > count.saturating_mul(20) {
            anyhow::bail!("{mix}: only {} different queries found", seen.len());
        }
        let path = generate(&mut rng);
        if seen.insert(path.clone()) {
            writeln!(out, "{path}")?;
        }
    }
    out.flush()?;
    Ok(())
}
