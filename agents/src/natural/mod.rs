//! The natural-gradient core and its Fisher approximations: flat parameters,
//! Fisher-vector products by double backprop, conjugate gradient, the line
//! search and the trust-region step (`natural_gradient`, `natural_policy_step`);
//! the exact, empirical, diagonal and Kronecker-factored Fisher matrices of
//! the teaching module (`fisher`, `kfac`) and its models (`classifier`).

pub mod classifier;
pub mod fisher;
pub mod kfac;
pub mod natural_gradient;
pub mod natural_policy_step;
pub mod policy_fisher;
