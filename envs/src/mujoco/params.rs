//! Keyword arguments of a native MuJoCo environment, read as Gymnasium's
//! `__init__` reads them: each has a default, a value of the wrong kind is an
//! error naming the key, and a key the environment does not take is refused
//! with the list of those it does.

use crate::error::EnvError;
use crate::options::{KwValue, NumpyDot};

pub(crate) struct Params<'a> {
    id: &'static str,
    given: &'a [(String, KwValue)],
    used: Vec<bool>,
    accepted: Vec<&'static str>,
    /// Not a keyword argument: how the Gymnasium being reproduced adds a dot product (definite).
    pub(crate) numpy_dot: NumpyDot,
}

impl<'a> Params<'a> {
    pub(crate) fn new(id: &'static str, given: &'a [(String, KwValue)], numpy_dot: NumpyDot) -> Self {
        Self { id, given, used: vec![false; given.len()], accepted: Vec::new(), numpy_dot }
    }

    fn take(&mut self, key: &'static str) -> Option<&'a KwValue> {
        self.accepted.push(key);
        let index = self.given.iter().rposition(|(k, _)| k == key)?;
        for (i, (k, _)) in self.given.iter().enumerate() {
            if k == key {
                self.used[i] = true;
            }
        }
        Some(&self.given[index].1)
    }

    fn wrong(&self, key: &str, expected: &str, got: &KwValue) -> EnvError {
        EnvError::KwargValue { id: self.id.into(), key: key.into(), expected: expected.into(), got: shown(got) }
    }

    pub(crate) fn float(&mut self, key: &'static str, default: f64) -> Result<f64, EnvError> {
        match self.take(key) {
            None => Ok(default),
            Some(KwValue::Float(v)) => Ok(*v),
            Some(KwValue::Int(v)) => Ok(*v as f64),
            Some(other) => Err(self.wrong(key, "a number", other)),
        }
    }

    pub(crate) fn int(&mut self, key: &'static str, default: i64) -> Result<i64, EnvError> {
        match self.take(key) {
            None => Ok(default),
            Some(KwValue::Int(v)) => Ok(*v),
            Some(other) => Err(self.wrong(key, "an integer", other)),
        }
    }

    pub(crate) fn bool(&mut self, key: &'static str, default: bool) -> Result<bool, EnvError> {
        match self.take(key) {
            None => Ok(default),
            Some(KwValue::Bool(v)) => Ok(*v),
            Some(other) => Err(self.wrong(key, "true or false", other)),
        }
    }

    pub(crate) fn string(&mut self, key: &'static str, default: &str) -> Result<String, EnvError> {
        match self.take(key) {
            None => Ok(default.to_owned()),
            Some(KwValue::Str(v)) => Ok(v.clone()),
            Some(other) => Err(self.wrong(key, "a file name", other)),
        }
    }

    /// A `(low, high)` range of numbers (`healthy_z_range`, ...).
    pub(crate) fn range(&mut self, key: &'static str, default: (f64, f64)) -> Result<(f64, f64), EnvError> {
        let number = |v: &KwValue| match v {
            KwValue::Float(f) => Some(*f),
            KwValue::Int(i) => Some(*i as f64),
            _ => None,
        };
        match self.take(key) {
            None => Ok(default),
            Some(v @ KwValue::Tuple(items)) => match items.as_slice() {
                [low, high] => {
                    number(low).zip(number(high)).ok_or_else(|| self.wrong(key, "(low, high), two numbers", v))
                }
                _ => Err(self.wrong(key, "(low, high), two numbers", v)),
            },
            Some(other) => Err(self.wrong(key, "(low, high), two numbers", other)),
        }
    }

    /// A body given by index or by name (Ant's `main_body`).
    pub(crate) fn body(&mut self, key: &'static str, default: i64) -> Result<KwValue, EnvError> {
        match self.take(key) {
            None => Ok(KwValue::Int(default)),
            Some(v @ (KwValue::Int(_) | KwValue::Str(_))) => Ok(v.clone()),
            Some(other) => Err(self.wrong(key, "a body's index or name", other)),
        }
    }

    /// Refuses any key no reader asked for.
    pub(crate) fn finish(self) -> Result<(), EnvError> {
        match self.used.iter().position(|used| !used) {
            None => Ok(()),
            Some(i) => Err(EnvError::UnknownKwarg {
                id: self.id.into(),
                key: self.given[i].0.clone(),
                accepted: self.accepted.join(", "),
            }),
        }
    }
}

fn shown(value: &KwValue) -> String {
    match value {
        KwValue::Bool(v) => v.to_string(),
        KwValue::Int(v) => v.to_string(),
        KwValue::Float(v) => v.to_string(),
        KwValue::Str(v) => format!("'{v}'"),
        KwValue::Tuple(items) => format!("({})", items.iter().map(shown).collect::<Vec<_>>().join(", ")),
    }
}
