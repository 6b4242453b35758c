//! The MuJoCo C API as natgrad uses it: opaque `mjModel`/`mjData` pointers,
//! the plain functions of `mujoco.h` (signatures copied from the 4.0.0 headers
//! of the wheel), and the views of shim.c for the struct fields read.

use std::ffi::{c_char, c_int, c_void};

#[repr(C)]
pub(crate) struct MjModel {
    _opaque: [u8; 0],
}

#[repr(C)]
pub(crate) struct MjData {
    _opaque: [u8; 0],
}

/// shim.c's `ng_model_view`: sizes and model arrays.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct ModelView {
    pub nq: i64,
    pub nv: i64,
    pub nu: i64,
    pub na: i64,
    pub nbody: i64,
    pub nsite: i64,
    pub timestep: f64,
    pub qpos0: *const f64,
    pub actuator_ctrlrange: *const f64,
    pub body_mass: *const f64,
}

/// shim.c's `ng_data_view`: pointers into one `mjData`'s arrays, valid for
/// that `mjData`'s lifetime.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct DataView {
    pub qpos: *mut f64,
    pub qvel: *mut f64,
    pub act: *mut f64,
    pub ctrl: *mut f64,
    pub xpos: *mut f64,
    pub xipos: *mut f64,
    pub site_xpos: *mut f64,
    pub cfrc_ext: *mut f64,
    pub cinert: *mut f64,
    pub cvel: *mut f64,
    pub qfrc_actuator: *mut f64,
    pub qfrc_constraint: *mut f64,
    pub time: *mut f64,
}

unsafe extern "C" {
    pub(crate) fn mj_loadXML(
        filename: *const c_char,
        vfs: *const c_void,
        error: *mut c_char,
        error_sz: c_int,
    ) -> *mut MjModel;
    pub(crate) fn mj_makeData(m: *const MjModel) -> *mut MjData;
    pub(crate) fn mj_deleteModel(m: *mut MjModel);
    pub(crate) fn mj_deleteData(d: *mut MjData);
    pub(crate) fn mj_resetData(m: *const MjModel, d: *mut MjData);
    pub(crate) fn mj_forward(m: *const MjModel, d: *mut MjData);
    pub(crate) fn mj_stateSize(m: *const MjModel, sig: c_int) -> c_int;
    pub(crate) fn mj_getState(m: *const MjModel, d: *const MjData, state: *mut f64, sig: c_int);
    pub(crate) fn mj_setState(m: *const MjModel, d: *mut MjData, state: *const f64, sig: c_int);
    pub(crate) fn mj_name2id(m: *const MjModel, kind: c_int, name: *const c_char) -> c_int;
    pub(crate) fn mj_version() -> c_int;

    pub(crate) fn ng_install_warning_handler();
    pub(crate) fn ng_header_version() -> c_int;
    pub(crate) fn ng_state_integration() -> c_int;
    pub(crate) fn ng_obj_body() -> c_int;
    pub(crate) fn ng_model_view_of(m: *const MjModel) -> ModelView;
    pub(crate) fn ng_data_view_of(d: *mut MjData) -> DataView;
    pub(crate) fn ng_step(m: *const MjModel, d: *mut MjData, nstep: c_int);
}
