//! The one source of randomness: SplitMix64 (Steele, Lea & Flood 2014; Vigna's splitmix64.c).
//! The data split, initial weights, shuffling, jitter and dropout masks all draw from [`Rng`]
//! streams derived from a seed, never from burn's global RNG, so the same seed gives the same
//! bytes whatever threads the tests run on.
//!
//! Two ways to draw an index exist because saved runs pin both: the split's unbiased
//! [`Rng::below_unbiased`] (`data::split`'s pinned split) and training's multiply-shift
//! [`Rng::below`] (every trained record). Changing either would change the bytes of every run
//! made before.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// An independent stream for `(seed, stream)`, e.g. one per epoch.
    pub fn stream(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A standard normal draw (Box-Muller: two uniform draws).
    pub fn normal(&mut self) -> f32 {
        // 1 - u is in (0, 1], so the logarithm is finite.
        let r = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        r * (std::f32::consts::TAU * self.uniform()).cos()
    }

    /// Uniform integer in `0..n` (`n > 0`) by a multiply-shift (biased by at most `n / 2^64`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform integer in `0..bound` (`bound > 0`), unbiased (Lemire 2019).
    pub fn below_unbiased(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(bound);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Fisher–Yates shuffle (Durstenfeld's form, from the back) with [`Rng::below`].
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// Fisher–Yates shuffle with [`Rng::below_unbiased`].
    pub fn shuffle_unbiased<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below_unbiased(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // Vigna's splitmix64.c seeded with 1234567.
        let mut r = Rng::new(1_234_567);
        assert_eq!(
            [r.next_u64(), r.next_u64(), r.next_u64()],
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
        let mut r = Rng::new(7);
        assert!((0..1000).all(|_| r.below_unbiased(3) < 3 && r.below(3) < 3));
    }
}
