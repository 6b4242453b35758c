//! One MuJoCo simulation (an `mjModel` and its `mjData`) behind a safe face:
//! slices of the arrays the environments read, and Gymnasium's MujocoEnv
//! operations on them.

use std::ffi::{CStr, CString, c_char};
use std::path::Path;

use super::ffi;
use crate::error::EnvError;

pub(crate) struct Sim {
    model: *mut ffi::MjModel,
    data: *mut ffi::MjData,
    m: ffi::ModelView,
    d: ffi::DataView,
    frame_skip: i32,
    integration: i32,
}

// SAFETY: a Sim owns its model and data outright; MuJoCo keeps no global
// state between calls on different models, and &Sim only reads.
unsafe impl Send for Sim {}

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: both were made by MuJoCo in `load` and are freed once.
        unsafe {
            ffi::mj_deleteData(self.data);
            ffi::mj_deleteModel(self.model);
        }
    }
}

impl Sim {
    /// `mujoco.MjModel.from_xml_path(path)` and `mujoco.MjData(model)`.
    pub(crate) fn load(path: &Path, frame_skip: i32) -> Result<Self, EnvError> {
        check_version()?;
        let shown = path.display().to_string();
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| EnvError::MujocoLoad { path: shown.clone(), message: "the path holds a NUL byte".into() })?;
        let mut error = [0 as c_char; 1000];
        // SAFETY: a NUL-terminated path, no VFS, and an error buffer of the size passed.
        let model =
            unsafe { ffi::mj_loadXML(c_path.as_ptr(), std::ptr::null(), error.as_mut_ptr(), error.len() as i32) };
        if model.is_null() {
            // SAFETY: MuJoCo wrote a NUL-terminated message into the buffer.
            let message = unsafe { CStr::from_ptr(error.as_ptr()) }.to_string_lossy().trim().to_owned();
            return Err(EnvError::MujocoLoad { path: shown, message });
        }
        // SAFETY: `model` is a valid model; mj_makeData allocates its data (reset to qpos0).
        let data = unsafe { ffi::mj_makeData(model) };
        if data.is_null() {
            // SAFETY: freed once, here.
            unsafe { ffi::mj_deleteModel(model) };
            return Err(EnvError::MujocoLoad { path: shown, message: "MuJoCo could not allocate its data".into() });
        }
        // SAFETY: both pointers are valid for the views' reads.
        let (m, d, integration) =
            unsafe { (ffi::ng_model_view_of(model), ffi::ng_data_view_of(data), ffi::ng_state_integration()) };
        Ok(Self { model, data, m, d, frame_skip, integration })
    }

    pub(crate) fn nq(&self) -> usize {
        self.m.nq as usize
    }
    pub(crate) fn nv(&self) -> usize {
        self.m.nv as usize
    }
    pub(crate) fn nu(&self) -> usize {
        self.m.nu as usize
    }
    pub(crate) fn nbody(&self) -> usize {
        self.m.nbody as usize
    }

    /// Gymnasium's `dt`: `model.opt.timestep * frame_skip`.
    pub(crate) fn dt(&self) -> f64 {
        self.m.timestep * f64::from(self.frame_skip)
    }

    /// `actuator_ctrlrange` as `(low, high)` per actuator.
    pub(crate) fn ctrl_range(&self) -> Vec<(f64, f64)> {
        // SAFETY: nu x 2 values owned by the model.
        let range = unsafe { std::slice::from_raw_parts(self.m.actuator_ctrlrange, 2 * self.nu()) };
        range.chunks(2).map(|r| (r[0], r[1])).collect()
    }

    pub(crate) fn qpos(&self) -> &[f64] {
        // SAFETY: nq values owned by the data, which outlives &self.
        unsafe { std::slice::from_raw_parts(self.d.qpos, self.nq()) }
    }
    pub(crate) fn qpos_mut(&mut self) -> &mut [f64] {
        // SAFETY: as above, borrowed mutably through &mut self.
        unsafe { std::slice::from_raw_parts_mut(self.d.qpos, self.nq()) }
    }
    pub(crate) fn qvel(&self) -> &[f64] {
        // SAFETY: nv values owned by the data.
        unsafe { std::slice::from_raw_parts(self.d.qvel, self.nv()) }
    }
    pub(crate) fn qvel_mut(&mut self) -> &mut [f64] {
        // SAFETY: as above.
        unsafe { std::slice::from_raw_parts_mut(self.d.qvel, self.nv()) }
    }
    pub(crate) fn qfrc_constraint(&self) -> &[f64] {
        // SAFETY: nv values owned by the data.
        unsafe { std::slice::from_raw_parts(self.d.qfrc_constraint, self.nv()) }
    }
    /// `data.body(id).xpos`.
    pub(crate) fn xpos(&self, body: usize) -> [f64; 3] {
        assert!(body < self.nbody());
        // SAFETY: nbody x 3 values owned by the data; `body` is in range.
        let p = unsafe { std::slice::from_raw_parts(self.d.xpos.add(3 * body), 3) };
        [p[0], p[1], p[2]]
    }
    /// `data.site_xpos[0]`.
    pub(crate) fn site_xpos0(&self) -> [f64; 3] {
        assert!(self.m.nsite > 0);
        // SAFETY: the first site's 3 values.
        let p = unsafe { std::slice::from_raw_parts(self.d.site_xpos, 3) };
        [p[0], p[1], p[2]]
    }
    /// `data.cinert`, nbody x 10 values.
    pub(crate) fn cinert(&self) -> &[f64] {
        // SAFETY: nbody x 10 values owned by the data.
        unsafe { std::slice::from_raw_parts(self.d.cinert, 10 * self.nbody()) }
    }
    /// `data.cvel`, nbody x 6 values.
    pub(crate) fn cvel(&self) -> &[f64] {
        // SAFETY: nbody x 6 values owned by the data.
        unsafe { std::slice::from_raw_parts(self.d.cvel, 6 * self.nbody()) }
    }
    /// `data.qfrc_actuator`, nv values.
    pub(crate) fn qfrc_actuator(&self) -> &[f64] {
        // SAFETY: nv values owned by the data.
        unsafe { std::slice::from_raw_parts(self.d.qfrc_actuator, self.nv()) }
    }
    /// `data.ctrl`, nu values.
    pub(crate) fn ctrl(&self) -> &[f64] {
        // SAFETY: nu values owned by the data.
        unsafe { std::slice::from_raw_parts(self.d.ctrl, self.nu()) }
    }
    /// `data.xipos`, nbody x 3 values.
    pub(crate) fn xipos(&self) -> &[f64] {
        // SAFETY: nbody x 3 values owned by the data.
        unsafe { std::slice::from_raw_parts(self.d.xipos, 3 * self.nbody()) }
    }
    /// `model.body_mass`, nbody values.
    pub(crate) fn body_mass(&self) -> &[f64] {
        // SAFETY: nbody values owned by the model.
        unsafe { std::slice::from_raw_parts(self.m.body_mass, self.nbody()) }
    }
    /// `data.cfrc_ext`, nbody x 6 values.
    pub(crate) fn cfrc_ext(&self) -> &[f64] {
        // SAFETY: nbody x 6 values owned by the data.
        unsafe { std::slice::from_raw_parts(self.d.cfrc_ext, 6 * self.nbody()) }
    }

    /// A body's id by name, as `data.body(name)` finds it.
    pub(crate) fn body_id(&self, name: &str) -> Option<usize> {
        let name = CString::new(name).ok()?;
        // SAFETY: a valid model and a NUL-terminated name.
        let id = unsafe { ffi::mj_name2id(self.model, ffi::ng_obj_body(), name.as_ptr()) };
        usize::try_from(id).ok()
    }

    /// `mujoco.mj_resetData`.
    pub(crate) fn reset_data(&mut self) {
        // SAFETY: valid model and data.
        unsafe { ffi::mj_resetData(self.model, self.data) }
    }

    /// Gymnasium's `MujocoEnv.set_state`: writes qpos and qvel, then `mj_forward`.
    pub(crate) fn set_qpos_qvel(&mut self, qpos: &[f64], qvel: &[f64]) {
        self.qpos_mut().copy_from_slice(qpos);
        self.qvel_mut().copy_from_slice(qvel);
        // SAFETY: valid model and data.
        unsafe { ffi::mj_forward(self.model, self.data) }
    }

    /// Gymnasium's `do_simulation`: ctrl = action (float32 values widened),
    /// `frame_skip` calls of `mj_step`, then `mj_rnePostConstraint`.
    pub(crate) fn do_simulation(&mut self, action: &[f32]) {
        // SAFETY: nu values owned by the data.
        let ctrl = unsafe { std::slice::from_raw_parts_mut(self.d.ctrl, self.nu()) };
        debug_assert_eq!(action.len(), ctrl.len());
        for (c, a) in ctrl.iter_mut().zip(action) {
            *c = f64::from(*a);
        }
        // SAFETY: valid model and data.
        unsafe { ffi::ng_step(self.model, self.data, self.frame_skip) }
    }

    /// Everything `mj_step` reads (`mjSTATE_INTEGRATION`: time, positions,
    /// velocities, activations, warm start, controls, applied forces, ...).
    pub(crate) fn integration_state(&self) -> Vec<f64> {
        // SAFETY: valid model; the buffer has the size MuJoCo asks for.
        unsafe {
            let size = ffi::mj_stateSize(self.model, self.integration) as usize;
            let mut state = vec![0.0; size];
            ffi::mj_getState(self.model, self.data, state.as_mut_ptr(), self.integration);
            state
        }
    }

    /// Restores [`Sim::integration_state`]; `false` if the size is wrong.
    pub(crate) fn set_integration_state(&mut self, state: &[f64]) -> bool {
        // SAFETY: valid model and data, and a buffer of the checked size.
        unsafe {
            if ffi::mj_stateSize(self.model, self.integration) as usize != state.len() {
                return false;
            }
            ffi::mj_setState(self.model, self.data, state.as_ptr(), self.integration);
        }
        true
    }
}

fn check_version() -> Result<(), EnvError> {
    // SAFETY: plain functions without arguments; the handler is set before
    // any model loads and never changes.
    let (built, loaded) = unsafe {
        ffi::ng_install_warning_handler();
        (ffi::ng_header_version(), ffi::mj_version())
    };
    if built == loaded { Ok(()) } else { Err(EnvError::MujocoVersion { built, loaded }) }
}
