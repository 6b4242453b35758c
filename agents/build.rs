// The same rpath set-up as the root package: link arguments printed by a build
// script apply only to the package that owns it.
include!("../build.rs");
