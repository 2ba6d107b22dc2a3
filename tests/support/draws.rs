//! Seeded pseudo-random draws (xorshift64) for tests that need variety they can repeat: the
//! same seed gives the same draws, with no crate to pull in.

/// A stream of draws from one seed.
#[derive(Debug, Clone)]
pub struct Draws {
    state: u64,
}

impl Draws {
    pub fn new(seed: u64) -> Self {
        // Spread the seed's bits (splitmix64's finaliser) so that nearby seeds differ at once;
        // xorshift never leaves zero, so zero is avoided.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Self {
            state: (z ^ (z >> 31)) | 1,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `count` different numbers from `range`, in increasing order.
    pub fn distinct(&mut self, count: usize, range: std::ops::RangeInclusive<usize>) -> Vec<usize> {
        let mut pool: Vec<usize> = range.collect();
        assert!(
            count <= pool.len(),
            "{count} draws from {} numbers",
            pool.len()
        );
        let mut chosen: Vec<usize> = (0..count)
            .map(|_| pool.swap_remove(self.below(pool.len() as u64) as usize))
            .collect();
        chosen.sort_unstable();
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_repeats_its_draws_and_distinct_draws_differ() {
        let draws = |seed| {
            let mut d = Draws::new(seed);
            (0..100).map(|_| d.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let mut d = Draws::new(0);
        let picked = d.distinct(5, 1..=8);
        assert_eq!(picked.len(), 5);
        assert!(picked.windows(2).all(|w| w[0] < w[1]), "{picked:?}");
        assert!(picked.iter().all(|n| (1..=8).contains(n)));
        assert!((0..1000).all(|_| d.unit() < 1.0));
    }
}
