//! The embedded interpreter: started once, on first use, with the packages of
//! the Python natgrad was built against, and natgrad's `bridge.py` loaded.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::error::EnvError;
use crate::native::ids;
use crate::suggest::closest_match;

/// The site-packages of the Python natgrad was built against (the project's
/// `.venv`): an embedded interpreter only sees its base installation's
/// packages otherwise.
const BUILD_SITE_PACKAGES: Option<&str> = option_env!("NATGRAD_PYTHON_SITE");

// A PyOnceLock, not a std OnceLock: a thread waiting for the first start must
// let go of the interpreter, or the starting thread can never take it back.
static BRIDGE: PyOnceLock<Result<Py<PyModule>, String>> = PyOnceLock::new();

/// Starts the interpreter and imports Gymnasium and `bridge.py`; the reason
/// it could not, otherwise.
fn start(py: Python<'_>) -> Result<Py<PyModule>, String> {
    let setup = || -> PyResult<Py<PyModule>> {
        let sys = py.import("sys")?;
        if sys.getattr("argv")?.len().unwrap_or(0) == 0 {
            sys.setattr("argv", vec!["natgrad"])?;
        }
        // NATGRAD_PYTHON_SITE at run time replaces the built-in path (another venv).
        let site_dir = std::env::var("NATGRAD_PYTHON_SITE").ok().or(BUILD_SITE_PACKAGES.map(str::to_owned));
        if let Some(dir) = site_dir.filter(|d| std::path::Path::new(d).is_dir()) {
            py.import("site")?.call_method1("addsitedir", (dir,))?;
        }
        // As `python -c`: modules in the working folder import, so that a
        // user's `my_module:MyEnv-v0` works from where they run natgrad.
        sys.getattr("path")?.call_method1("insert", (0, ""))?;
        py.import("gymnasium")?;
        let code = std::ffi::CString::new(include_str!("bridge.py")).expect("no NUL in bridge.py");
        Ok(PyModule::from_code(py, &code, c"natgrad_bridge.py", c"natgrad_bridge")?.unbind())
    };
    setup().map_err(|e| {
        let version = Python::version_str().split_whitespace().next().unwrap_or("?").to_owned();
        format!("Python {version} could not import it ({})", describe_exception(py, &e).1)
    })
}

fn bridge<'py>(py: Python<'py>, id: &str) -> Result<Bound<'py, PyModule>, EnvError> {
    match BRIDGE.get_or_init(py, || start(py)) {
        Ok(module) => Ok(module.bind(py).clone()),
        Err(reason) => {
            let what = if id.is_empty() {
                "listing Gymnasium's ids".to_owned()
            } else {
                format!("'{id}' (not a native environment)")
            };
            Err(EnvError::GymnasiumMissing { what, reason: reason.clone() })
        }
    }
}

/// Runs `f` with the interpreter attached and the bridge loaded; a Python
/// exception becomes the matching [`EnvError`] for environment `id`.
pub(crate) fn with_bridge<T>(
    id: &str,
    during: &str,
    f: impl FnOnce(Python<'_>, &Bound<'_, PyModule>) -> PyResult<T>,
) -> Result<T, EnvError> {
    Python::attach(|py| {
        let module = bridge(py, id)?;
        f(py, &module).map_err(|e| to_env_error(py, &module, id, during, &e))
    })
}

/// `function(argument)` of module `code`, with the interpreter started as for
/// Gymnasium.
pub(crate) fn run_module(code: &str, name: &str, function: &str, argument: &str) -> Result<String, EnvError> {
    let python_error = |py: Python<'_>, e: PyErr| {
        let (kind, message) = describe_exception(py, &e);
        EnvError::Python { id: name.to_owned(), during: function.to_owned(), kind, message }
    };
    Python::attach(|py| {
        bridge(py, "")?;
        let code = std::ffi::CString::new(code).expect("no NUL in embedded Python");
        let file = std::ffi::CString::new(format!("{name}.py")).expect("no NUL in a module name");
        let module_name = std::ffi::CString::new(name).expect("no NUL in a module name");
        let module = PyModule::from_code(py, &code, &file, &module_name).map_err(|e| python_error(py, e))?;
        module.getattr(function).and_then(|f| f.call1((argument,))?.extract()).map_err(|e| python_error(py, e))
    })
}

/// Runs `f` on an environment the bridge already made.
pub(crate) fn call<T>(id: &str, during: &str, f: impl FnOnce(Python<'_>) -> PyResult<T>) -> Result<T, EnvError> {
    with_bridge(id, during, |py, _| f(py))
}

/// Closes an environment (its worker processes, windows, files); errors at
/// this point have nowhere to go.
pub(crate) fn close(handle: &Py<PyAny>) {
    Python::attach(|py| {
        let _ = handle.bind(py).call_method0("close");
    });
}

/// The exception's type name and message.
fn describe_exception(py: Python<'_>, err: &PyErr) -> (String, String) {
    let kind = err.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "an exception".into());
    let message = err.value(py).str().map(|s| s.to_string()).unwrap_or_default();
    (kind, message)
}

fn to_env_error(py: Python<'_>, bridge: &Bound<'_, PyModule>, id: &str, during: &str, err: &PyErr) -> EnvError {
    let (kind, message) = describe_exception(py, err);
    match kind.as_str() {
        "UnknownId" => unknown_id(bridge, id, gym_name(id)),
        "UnsupportedSpace" => EnvError::UnsupportedSpace { id: id.to_owned(), message },
        _ => EnvError::Python { id: id.to_owned(), during: during.to_owned(), kind, message },
    }
}

/// The id as Gymnasium's registry names it: without `gym:` or `module:`.
fn gym_name(id: &str) -> &str {
    let id = id.strip_prefix("gym:").unwrap_or(id);
    id.split_once(':').map_or(id, |(_, name)| name)
}

/// The closest native id and the closest ids Gymnasium has registered.
fn unknown_id(bridge: &Bound<'_, PyModule>, id: &str, bare: &str) -> EnvError {
    let native = ids();
    let mut closest: Vec<String> = closest_match(bare, &native).map(str::to_owned).into_iter().collect();
    let gym_closest = bridge
        .getattr("registered_ids")
        .and_then(|f| f.call0())
        .and_then(|all| bridge.getattr("closest_ids")?.call1((bare, all)))
        .and_then(|c| c.extract::<Vec<String>>());
    closest.extend(gym_closest.unwrap_or_default().into_iter().filter(|c| !native.contains(&c.as_str())));
    EnvError::UnknownGymEnv { id: id.to_owned(), native: native.into_iter().map(str::to_owned).collect(), closest }
}

/// Every id Gymnasium has registered.
pub(crate) fn registered_ids(during: &str) -> Result<Vec<String>, EnvError> {
    with_bridge("", during, |_, bridge| bridge.getattr("registered_ids")?.call0()?.extract())
}

/// Blocks SIGINT, SIGTERM and SIGHUP on this thread while `f` runs, so that
/// processes forked meanwhile (Gymnasium's async workers) inherit them
/// blocked and never see a terminal's Ctrl-C or the SIGTERM that Slurm sends
/// every process of a job it preempts: natgrad stops them itself after its
/// checkpoint. A signal that arrives meanwhile is delivered after.
pub(crate) fn with_stop_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: plain signal-mask calls on a zero-initialised, then filled, set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        let out = f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        out
    }
}

/// Bytes packed into 64-bit words, led by the byte count (snapshots are words).
pub(crate) fn bytes_to_words(bytes: &[u8]) -> Vec<u64> {
    let mut words = vec![bytes.len() as u64];
    words.extend(bytes.chunks(8).map(|c| {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        u64::from_le_bytes(w)
    }));
    words
}

/// Unpacks [`bytes_to_words`].
pub(crate) fn words_to_bytes(words: &[u64]) -> Result<Vec<u8>, EnvError> {
    let (len, rest) = words.split_first().ok_or(EnvError::BadSnapshot("empty Python state"))?;
    let len = *len as usize;
    if rest.len() != len.div_ceil(8) {
        return Err(EnvError::BadSnapshot("Python state of the wrong length"));
    }
    let mut bytes: Vec<u8> = rest.iter().flat_map(|w| w.to_le_bytes()).collect();
    bytes.truncate(len);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_survive_words() {
        for n in [0, 1, 7, 8, 9, 100] {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 % 251) as u8).collect();
            assert_eq!(words_to_bytes(&bytes_to_words(&bytes)).unwrap(), bytes);
        }
        assert!(words_to_bytes(&[9, 0]).is_err());
    }
}
