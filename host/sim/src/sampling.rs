//! Random draws and weighted choice for the traffic model.
//!
//! Invariants:
//! - All randomness flows from one seeded ChaCha8 stream owned by the network;
//!   the order of draws is part of the determinism contract, so callers draw
//!   in a fixed order per event.
//! - Weighted choice uses integer weights (a Fenwick tree of u64), so repeated
//!   updates never accumulate floating-point drift and a draw is exact.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The network's single random stream.
#[derive(Debug, Clone)]
pub(crate) struct Draws {
    rng: ChaCha8Rng,
}

impl Draws {
    pub(crate) fn new(seed: u64) -> Self {
        Draws {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    /// Uniform integer in [0, upper); `upper` must be > 0.
    pub(crate) fn below(&mut self, upper: u64) -> u64 {
        self.rng.random_range(0..upper)
    }

    /// Exponential waiting time with the given mean.
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        // 1 - u is in (0, 1], so ln never sees zero.
        -(1.0 - self.uniform()).ln() * mean
    }

    /// Standard normal via Box–Muller (one value per call keeps the draw order simple).
    pub(crate) fn standard_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and log-space standard deviation: the
    /// right-skewed shape of payment sizes (many small, a few very large).
    pub(crate) fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.standard_normal()).exp()
    }
}

/// 1 / (1 + e^-x), computed without overflow for large |x|.
pub(crate) fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Weighted choice among `n` items with integer weights, O(log n) to update or draw.
#[derive(Debug, Clone)]
pub(crate) struct WeightTree {
    /// 1-based Fenwick array of partial sums.
    tree: Vec<u64>,
    weights: Vec<u64>,
    total: u64,
}

impl WeightTree {
    pub(crate) fn new(n: usize) -> Self {
        WeightTree {
            tree: vec![0; n + 1],
            weights: vec![0; n],
            total: 0,
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    pub(crate) fn weight(&self, i: usize) -> u64 {
        self.weights[i]
    }

    pub(crate) fn set(&mut self, i: usize, weight: u64) {
        let old = self.weights[i];
        if old == weight {
            return;
        }
        self.weights[i] = weight;
        self.total = self.total - old + weight;
        let mut k = i + 1;
        while k < self.tree.len() {
            // Wrapping add of the two's-complement delta is exact for the final
            // sums, which are all non-negative.
            self.tree[k] = self.tree[k].wrapping_add(weight.wrapping_sub(old));
            k += k & k.wrapping_neg();
        }
    }

    /// The item whose cumulative weight range contains `target` (< total).
    pub(crate) fn find(&self, mut target: u64) -> usize {
        debug_assert!(target < self.total);
        let n = self.tree.len() - 1;
        let mut pos = 0usize;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] <= target {
                pos = next;
                target -= self.tree[next];
            }
            step >>= 1;
        }
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_tree_finds_by_cumulative_weight() {
        let mut t = WeightTree::new(5);
        t.set(0, 3);
        t.set(2, 5);
        t.set(4, 2);
        assert_eq!(t.total(), 10);
        assert_eq!(t.find(0), 0);
        assert_eq!(t.find(2), 0);
        assert_eq!(t.find(3), 2);
        assert_eq!(t.find(7), 2);
        assert_eq!(t.find(8), 4);
        assert_eq!(t.find(9), 4);
        t.set(2, 0);
        assert_eq!(t.total(), 5);
        assert_eq!(t.find(3), 4);
    }

    #[test]
    fn draws_are_reproducible() {
        let mut a = Draws::new(42);
        let mut b = Draws::new(42);
        for _ in 0..100 {
            assert_eq!(
                a.log_normal(1.0, 1.0).to_bits(),
                b.log_normal(1.0, 1.0).to_bits()
            );
        }
    }

    #[test]
    fn logistic_is_stable_at_extremes() {
        assert!((logistic(0.0) - 0.5).abs() < 1e-12);
        assert!(logistic(1000.0) <= 1.0);
        assert!(logistic(-1000.0) >= 0.0);
    }
}
