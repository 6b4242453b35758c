//! How an environment is made: the options of `make_with`, as the keyword
//! arguments of `gymnasium.make`.

/// Options of [`crate::make_with`], as the keyword arguments of `gymnasium.make`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MakeOptions {
    /// Overrides the registered time limit.
    pub max_episode_steps: Option<usize>,
    /// Keyword arguments for `gymnasium.make` (environments in Python only).
    pub kwargs: Vec<(String, KwValue)>,
    /// How [`crate::make_vec`] steps the copies of an environment in Python.
    pub vector_mode: VectorMode,
    /// Gymnasium wrappers applied inside each copy, innermost first
    /// (environments in Python only).
    pub wrappers: Vec<EnvWrapper>,
    /// Threads that step a native vector environment's copies; `None`: for
    /// the MuJoCo tasks one per copy up to the machine's cores, for the
    /// classic ones (steps of tens of nanoseconds) one. The results are the
    /// same for any count.
    pub env_threads: Option<usize>,
    /// Whose arithmetic a native environment reproduces where Gymnasium's
    /// result depends on NumPy's BLAS (Reacher's distance reward). The
    /// default, this machine's, is what Gymnasium gives here.
    pub numpy_dot: NumpyDot,
}

/// How NumPy adds up a short dot product (`np.linalg.norm`, `x.dot(x)`),
/// which reaches BLAS's `ddot`. NumPy's wheels carry OpenBLAS, which picks its
/// kernels by CPU when it loads: its AVX-512 kernels (SkylakeX and later, on
/// CPUs with AVX-512VL) are compiled with fused multiply-add, and add fewer
/// than 16 products as `fma(x[i], y[i], sum)` in order; the others (Haswell,
/// Zen without AVX-512, Sandy Bridge, Nehalem) round each product before
/// adding it. So one Gymnasium release gives Reacher's reward with another
/// last bit on another CPU (measured on numpy 2.4.6's OpenBLAS 0.3.31 with
/// `OPENBLAS_CORETYPE`, 2026-12-06: 10% of 3-vectors' norms differ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NumpyDot {
    /// As NumPy's OpenBLAS on this machine: [`NumpyDot::Fused`] where the
    /// CPU and the OS run AVX-512VL, otherwise [`NumpyDot::Separate`]. (It
    /// does not follow an `OPENBLAS_CORETYPE` set for Python.)
    #[default]
    ThisMachine,
    /// Each product rounded, then added in order (OpenBLAS's Haswell and Zen kernels).
    Separate,
    /// Products fused into the running sum in order (OpenBLAS's SkylakeX kernels).
    Fused,
}

impl NumpyDot {
    /// [`NumpyDot::ThisMachine`] made definite.
    pub fn resolved(self) -> Self {
        match self {
            Self::ThisMachine if avx512vl() => Self::Fused,
            Self::ThisMachine => Self::Separate,
            definite => definite,
        }
    }

    /// What a fixture file's OpenBLAS core name (numpy's
    /// `scipy_openblas_get_corename64_`) says: the AVX-512 cores fuse.
    pub fn of_openblas_core(name: &str) -> Self {
        let fused = ["skylakex", "cooperlake", "sapphirerapids"];
        if fused.contains(&name.to_ascii_lowercase().as_str()) { Self::Fused } else { Self::Separate }
    }
}

#[cfg(target_arch = "x86_64")]
fn avx512vl() -> bool {
    // Checks the OS's support (XCR0) too, as OpenBLAS does.
    std::arch::is_x86_feature_detected!("avx512vl")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512vl() -> bool {
    false
}

/// A Python wrapper class and its keyword arguments: `--env-wrapper
/// module.Class:key=value,key=value`, applied as `Class(env, **kwargs)`.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvWrapper {
    /// `module.Class`, e.g. `gymnasium.wrappers.AtariPreprocessing`.
    pub path: String,
    pub kwargs: Vec<(String, KwValue)>,
}

/// Parses `module.Class` with optional `:key=value,key=value` arguments;
/// values parse as [`parse_kwarg`]'s.
pub fn parse_wrapper(text: &str) -> Result<EnvWrapper, String> {
    let (path, args) = text.split_once(':').unwrap_or((text, ""));
    let path = path.trim();
    let dotted = path.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if !dotted || !path.contains('.') {
        return Err(format!(
            "'{text}' does not name a wrapper class as module.Class (e.g. --env-wrapper \
             gymnasium.wrappers.AtariPreprocessing:frame_skip=1,screen_size=84)"
        ));
    }
    let kwargs = args
        .split(',')
        .filter(|a| !a.trim().is_empty())
        .map(|a| parse_kwarg(a).map_err(|e| format!("in '{text}': {e}")))
        .collect::<Result<_, _>>()?;
    Ok(EnvWrapper { path: path.to_owned(), kwargs })
}

/// A keyword argument's value: what `key=value` on the command line means.
#[derive(Clone, Debug, PartialEq)]
pub enum KwValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// `(a, b, ...)`: a Python tuple of the values above (the MuJoCo tasks'
    /// ranges, `healthy_z_range=(0.8,2.0)`).
    Tuple(Vec<KwValue>),
}

/// Parses `key=value`: `true`/`false` (any case) are booleans, then integers,
/// then floats (`inf` and `-inf` too); `(a, b, ...)` is a tuple of those;
/// anything else is a string.
pub fn parse_kwarg(text: &str) -> Result<(String, KwValue), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("'{text}' is not key=value (e.g. --env-kwargs ctrl_cost_weight=0.1)"));
    };
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(format!("'{key}' in '{text}' is not a Python keyword name"));
    }
    let value = match value.trim().strip_prefix('(').and_then(|v| v.strip_suffix(')')) {
        Some(inner) => KwValue::Tuple(inner.split(',').filter(|v| !v.trim().is_empty()).map(scalar).collect()),
        None => scalar(value),
    };
    Ok((key.to_owned(), value))
}

fn scalar(value: &str) -> KwValue {
    let value = value.trim();
    if value.eq_ignore_ascii_case("true") {
        KwValue::Bool(true)
    } else if value.eq_ignore_ascii_case("false") {
        KwValue::Bool(false)
    } else if let Ok(i) = value.parse::<i64>() {
        KwValue::Int(i)
    } else if let Ok(f) = value.parse::<f64>() {
        KwValue::Float(f)
    } else {
        KwValue::Str(value.to_owned())
    }
}

/// How several copies of an environment in Python are stepped: in the main
/// process one after another (`sync`, the measured default on small machines:
/// a step is dearer than the pipe round trip saves), or in worker processes
/// (`async`), Gymnasium's `SyncVectorEnv` and `AsyncVectorEnv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VectorMode {
    #[default]
    Sync,
    Async,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openblas_core_names_say_whether_products_fuse() {
        assert_eq!(NumpyDot::of_openblas_core("SkylakeX"), NumpyDot::Fused);
        assert_eq!(NumpyDot::of_openblas_core("Haswell"), NumpyDot::Separate);
        assert_eq!(NumpyDot::of_openblas_core("Zen"), NumpyDot::Separate);
        assert_ne!(NumpyDot::ThisMachine.resolved(), NumpyDot::ThisMachine);
    }

    #[test]
    fn kwargs_parse_as_python_literals() {
        assert_eq!(parse_kwarg("a=1").unwrap(), ("a".into(), KwValue::Int(1)));
        assert_eq!(parse_kwarg("b=-0.5").unwrap(), ("b".into(), KwValue::Float(-0.5)));
        assert_eq!(parse_kwarg("c=True").unwrap(), ("c".into(), KwValue::Bool(true)));
        assert_eq!(parse_kwarg("d=false").unwrap(), ("d".into(), KwValue::Bool(false)));
        assert_eq!(parse_kwarg("e=rgb_array").unwrap(), ("e".into(), KwValue::Str("rgb_array".into())));
        assert_eq!(parse_kwarg("f=").unwrap(), ("f".into(), KwValue::Str(String::new())));
        assert_eq!(
            parse_kwarg("g=(0.8, inf)").unwrap(),
            ("g".into(), KwValue::Tuple(vec![KwValue::Float(0.8), KwValue::Float(f64::INFINITY)]))
        );
        assert_eq!(parse_kwarg("h=(1,)").unwrap(), ("h".into(), KwValue::Tuple(vec![KwValue::Int(1)])));
        assert!(parse_kwarg("novalue").unwrap_err().contains("not key=value"));
        assert!(parse_kwarg("bad key=1").unwrap_err().contains("not a Python keyword"));
    }

    #[test]
    fn wrappers_parse_as_a_class_and_its_keyword_arguments() {
        let w = parse_wrapper("gymnasium.wrappers.AtariPreprocessing:frame_skip=1,terminal_on_life_loss=true").unwrap();
        assert_eq!(w.path, "gymnasium.wrappers.AtariPreprocessing");
        assert_eq!(
            w.kwargs,
            [("frame_skip".into(), KwValue::Int(1)), ("terminal_on_life_loss".into(), KwValue::Bool(true))]
        );
        assert_eq!(parse_wrapper("minigrid.wrappers.ImgObsWrapper").unwrap().kwargs, []);
        assert_eq!(parse_wrapper("m.W:").unwrap().kwargs, []);
        for bad in ["ImgObsWrapper", "a..b", "my module.W", ":x=1"] {
            assert!(parse_wrapper(bad).unwrap_err().contains("as module.Class"), "{bad}");
        }
        assert!(parse_wrapper("m.W:frame_skip").unwrap_err().contains("not key=value"));
    }
}
