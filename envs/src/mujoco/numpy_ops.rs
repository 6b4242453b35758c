//! NumPy's arithmetic where it decides a bit of a reward: float32 action
//! costs, pairwise summation, scalar powers, and BLAS's dot product.

use crate::options::NumpyDot;

/// `np.sum(a)` of a contiguous array: 0 plus NumPy's pairwise sum, which for
/// fewer than 8 values adds in order, and up to 128 values keeps eight
/// running sums combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then adds
/// the remainder in order. (Longer arrays split in halves; none here has more.)
fn pairwise_sum<T: Copy + std::ops::Add<Output = T> + Default>(a: &[T]) -> T {
    let n = a.len();
    assert!(n <= 128, "pairwise_sum implements NumPy's blocks up to 128 values");
    if n < 8 {
        return a.iter().fold(T::default(), |s, &x| s + x);
    }
    let mut r: [T; 8] = std::array::from_fn(|j| a[j]);
    let full = n - n % 8;
    for block in a[8..full].chunks_exact(8) {
        for (acc, &x) in r.iter_mut().zip(block) {
            *acc = *acc + x;
        }
    }
    let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for &x in &a[full..] {
        res = res + x;
    }
    T::default() + res
}

/// `np.sum(np.square(action))` of a float32 action: float32 throughout.
pub(crate) fn sum_of_squares_f32(action: &[f32]) -> f32 {
    let mut squares = [0f32; 128];
    for (s, a) in squares.iter_mut().zip(action) {
        *s = a * a;
    }
    pairwise_sum(&squares[..action.len()])
}

/// `weight * np.sum(np.square(action))` with a Python float weight: NumPy 2
/// keeps the float32 scalar's type, so the weight is rounded to float32 first.
pub(crate) fn control_cost(weight: f64, action: &[f32]) -> f32 {
    (weight as f32) * sum_of_squares_f32(action)
}

/// `np.sum(values)` of at most 128 float64 values.
pub(crate) fn sum(values: &[f64]) -> f64 {
    pairwise_sum(values)
}

/// `np.sum(np.square(values))` in float64.
pub(crate) fn sum_of_squares(values: &[f64]) -> f64 {
    sum_of_clipped_squares(values, f64::NEG_INFINITY, f64::INFINITY)
}

/// `np.sum(np.square(np.clip(values, low, high)))` in float64.
pub(crate) fn sum_of_clipped_squares(values: &[f64], low: f64, high: f64) -> f64 {
    let mut squares = [0f64; 128];
    for (s, v) in squares.iter_mut().zip(values) {
        let c = clip(*v, low, high);
        *s = c * c;
    }
    pairwise_sum(&squares[..values.len()])
}

/// `np.clip(x, low, high)` of one value (NaN stays NaN).
pub(crate) fn clip(x: f64, low: f64, high: f64) -> f64 {
    if x < low {
        low
    } else if x > high {
        high
    } else {
        x
    }
}

/// `np.linalg.norm(v)`: the square root of `v.dot(v)`, which OpenBLAS sums in
/// order below 16 values, with each product rounded or fused as `dot` says.
/// Longer vectors go through its vector kernels, whose order this does not
/// reproduce.
pub(crate) fn norm(v: &[f64], dot: NumpyDot) -> f64 {
    assert!(v.len() < 16, "norm reproduces OpenBLAS's ddot below 16 values only");
    let sum = if dot.resolved() == NumpyDot::Fused {
        v.iter().fold(0.0, |s, x| x.mul_add(*x, s))
    } else {
        v.iter().fold(0.0, |s, x| s + x * x)
    };
    sum.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_orders_as_numpy() {
        // Three values that sum differently in order and pairwise.
        let a = [1e16f64, 1.0, -1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0];
        // r = a[0..8]; ((1e16+1)+(-1e16+1)) + ((1+1)+(1+1)) = 0 + 4 (1e16+1 rounds to 1e16,
        // -1e16+1 to -1e16+... exactly -9999999999999999), then + 3.
        assert_eq!(pairwise_sum(&a), ((1e16 + 1.0) + (-1e16 + 1.0)) + ((1.0 + 1.0) + (1.0 + 1.0)) + 3.0);
        assert_eq!(pairwise_sum(&[1.0f32, 2.0, 3.0]), 6.0);
        assert_eq!(sum_of_squares_f32(&[]), 0.0);
        assert_eq!(control_cost(0.1, &[1.0, 1.0]), 0.1f32 * 2.0);
    }

    #[test]
    fn norm_rounds_or_fuses_each_product_as_openblas_kernels() {
        // np.linalg.norm(np.array([0.6, 0.7])) under numpy 2.4.6 with
        // OPENBLAS_CORETYPE=Haswell and =SkylakeX (2026-12-06).
        assert_eq!(norm(&[0.6, 0.7], NumpyDot::Separate), 0.9219544457292886);
        assert_eq!(norm(&[0.6, 0.7], NumpyDot::Fused), 0.9219544457292888);
        assert_eq!(norm(&[3.0, 4.0], NumpyDot::Fused), 5.0);
    }
}
