// The only C in natgrad-envs: the few fields of MuJoCo's mjModel and mjData
// that the native environments read, handed to Rust as flat views.
//
// Why a shim and not bindgen: mjModel and mjData have hundreds of fields whose
// layout changes between MuJoCo versions. Compiled here against the headers of
// the wheel that Gymnasium uses, the C compiler itself resolves every offset,
// so the Rust side never states a layout and cannot get one wrong; the rest of
// the API (mj_step, mj_getState, ...) is plain functions, declared in ffi.rs.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <mujoco/mujoco.h>

typedef struct {
  int64_t nq, nv, nu, na, nbody, nsite;
  double timestep;
  const double* qpos0;
  const double* actuator_ctrlrange;
  const double* body_mass;
} ng_model_view;

typedef struct {
  double* qpos;
  double* qvel;
  double* act;
  double* ctrl;
  double* xpos;
  double* xipos;
  double* site_xpos;
  double* cfrc_ext;
  double* cinert;
  double* cvel;
  double* qfrc_actuator;
  double* qfrc_constraint;
  double* time;
} ng_data_view;

// MuJoCo's default warning handler prints and appends to MUJOCO_LOG.TXT in
// the working directory, a run folder's neighbour. Each distinct warning (the
// HalfCheetah model warns at every load) goes to stderr once instead.
static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;
static char warned[16][256];
static int n_warned = 0;

static void warn_once(const char* msg) {
  pthread_mutex_lock(&warned_lock);
  int seen = 0;
  for (int i = 0; i < n_warned; i++) seen |= strncmp(warned[i], msg, 255) == 0;
  if (!seen) {
    fprintf(stderr, "MuJoCo warning: %s\n", msg);
    if (n_warned < 16) snprintf(warned[n_warned++], 256, "%s", msg);
  }
  pthread_mutex_unlock(&warned_lock);
}

void ng_install_warning_handler(void) { mju_user_warning = warn_once; }

int ng_header_version(void) { return mjVERSION_HEADER; }

int ng_state_integration(void) { return mjSTATE_INTEGRATION; }

int ng_obj_body(void) { return mjOBJ_BODY; }

ng_model_view ng_model_view_of(const mjModel* m) {
  ng_model_view v;
  v.nq = m->nq;
  v.nv = m->nv;
  v.nu = m->nu;
  v.na = m->na;
  v.nbody = m->nbody;
  v.nsite = m->nsite;
  v.timestep = m->opt.timestep;
  v.qpos0 = m->qpos0;
  v.actuator_ctrlrange = m->actuator_ctrlrange;
  v.body_mass = m->body_mass;
  return v;
}

ng_data_view ng_data_view_of(mjData* d) {
  ng_data_view v;
  v.qpos = d->qpos;
  v.qvel = d->qvel;
  v.act = d->act;
  v.ctrl = d->ctrl;
  v.xpos = d->xpos;
  v.xipos = d->xipos;
  v.site_xpos = d->site_xpos;
  v.cfrc_ext = d->cfrc_ext;
  v.cinert = d->cinert;
  v.cvel = d->cvel;
  v.qfrc_actuator = d->qfrc_actuator;
  v.qfrc_constraint = d->qfrc_constraint;
  v.time = &d->time;
  return v;
}

// mujoco.mj_step(m, d, nstep=n) of the Python bindings, then
// mj_rnePostConstraint as Gymnasium's MujocoEnv does after every step.
void ng_step(const mjModel* m, mjData* d, int nstep) {
  for (int i = 0; i < nstep; i++) mj_step(m, d);
  mj_rnePostConstraint(m, d);
}
