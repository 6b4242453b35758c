//! Hyperparameter structs that describe themselves: each field's doc comment
//! is also its documentation on the command line and in TOML files, so the
//! two can never disagree.

/// One hyperparameter: its key (the field name, as in TOML files and
/// `--set key=value`) and its documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: &'static str,
    pub doc: &'static str,
}

/// Declares a hyperparameter struct with its defaults: `pub field: Type =
/// default,` after the field's doc comment. Generates the struct (serde,
/// missing keys take their defaults), `Default`, and `KEYS`.
macro_rules! hyperparameters {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])+
                pub $field:ident : $ty:ty = $default:expr,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        pub struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $name {
            /// Every field's key and documentation, in declaration order.
            pub const KEYS: &'static [$crate::hyperparameters::Key] = &[
                $( $crate::hyperparameters::Key { name: stringify!($field), doc: concat!($($doc, "\n"),+) }, )*
            ];
        }
    };
}

pub(crate) use hyperparameters;
