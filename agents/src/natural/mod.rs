//! The natural-gradient core and its Fisher approximations: flat parameters,
//! Fisher-vector products (by double backprop in `natural_gradient`, as
//! J ᵀM J in `jacobian_fvp`), conjugate gradient, the line search and the
//! trust-region step (`natural_gradient`, `natural_policy_step`);
//! the exact, empirical, diagonal and Kronecker-factored Fisher matrices of
//! the teaching module (`fisher`, `kfac`) and its models (`classifier`).

pub mod classifier;
pub mod fisher;
pub mod jacobian_fvp;
pub mod kfac;
pub mod natural_gradient;
pub mod natural_policy_step;
pub mod policy_fisher;
