"""natgrad tune: Optuna's ask-and-tell loop in natgrad's embedded Python.

Each trial is one ordinary `natgrad train` child process per seed, each in
a run folder of its own (`LOGDIR/STUDY/trial_NNNN`, or `trial_NNNN__seedS`
for several seeds). Their evaluations during training (evaluations.csv),
averaged over the seeds, are reported to Optuna as they appear, so that the
pruner can stop them (SIGTERM: natgrad checkpoints and exits); the trial's
value is its last evaluation's mean return, as rl-baselines3-zoo's
objective. Several workers,
threads here or processes anywhere, share one study through its storage.
"""

import json
import os
import signal
import socket
import subprocess
import threading
import time
import tomllib

import optuna
from optuna.trial import TrialState

# rl-baselines3-zoo's sample_trpo_params (hyperparams_opt.py) in natgrad's
# names: zoo's batch_size and learning_rate are sb3-contrib's critic's,
# cg_max_steps is cg_iters. natgrad's networks are tanh only, so zoo's
# activation_fn is not searched.
_N_STEPS = {"choices": [8, 16, 32, 64, 128, 256, 512, 1024, 2048]}
_GAMMA = {"choices": [0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999]}
_GAE_LAMBDA = {"choices": [0.8, 0.9, 0.92, 0.95, 0.98, 0.99, 1.0]}
_LEARNING_RATE = {"low": 1e-5, "high": 1.0, "log": True}
_EPOCHS = {"choices": [5, 10, 20, 25, 30]}
_NET_ARCHS = {"choices": ["small", "medium"]}
# Keys in zoo's order of suggestion: a seeded study draws them in this order.
_TRPO = {
    "n_steps": _N_STEPS,
    "critic_batch_size": {"choices": [8, 16, 32, 64, 128, 256, 512]},
    "gamma": _GAMMA,
    "critic_learning_rate": _LEARNING_RATE,
    "n_critic_updates": _EPOCHS,
    "cg_iters": _EPOCHS,
    "target_kl": {"choices": [0.1, 0.05, 0.03, 0.02, 0.01, 0.005, 0.001]},
    "gae_lambda": _GAE_LAMBDA,
    "net_arch": _NET_ARCHS,
}
# NPG takes TRPO's step without the line search: the same space.
_NPG = dict(_TRPO)
# VPG and ACKTR: zoo's A2C space where natgrad has the setting.
_VPG = {
    "n_steps": _N_STEPS,
    "gamma": _GAMMA,
    "gae_lambda": _GAE_LAMBDA,
    "learning_rate": _LEARNING_RATE,
    "critic_learning_rate": _LEARNING_RATE,
    "n_critic_updates": _EPOCHS,
    "net_arch": _NET_ARCHS,
}
_ACKTR = {
    "n_steps": _N_STEPS,
    "gamma": _GAMMA,
    "gae_lambda": _GAE_LAMBDA,
    "learning_rate": _LEARNING_RATE,
    "ent_coef": {"low": 1e-8, "high": 0.1, "log": True},
    "max_grad_norm": {"choices": [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 2, 5]},
    "net_arch": _NET_ARCHS,
}
SPACES = {"trpo": _TRPO, "npg": _NPG, "vpg": _VPG, "acktr": _ACKTR}

# zoo's net_arch: the same layers for the policy and the critic.
_NET_ARCH = {"small": "[64, 64]", "medium": "[256, 256]"}


class TuneError(Exception):
    """A mistake in the tuning's settings, said in one line."""


def default_space(algo):
    """The default search space of `algo`, as JSON (for natgrad's checks)."""
    return json.dumps(SPACES[algo])


def _space(cfg):
    if cfg.get("space_file") is None:
        return SPACES[cfg["algo"]]
    with open(cfg["space_file"], "rb") as f:
        return tomllib.load(f)


def _suggest(trial, name, spec):
    """One hyperparameter of the space: `choices` (categorical), or `low`
    and `high` (integers if both are, else floats; `log` for a log scale)."""
    if "choices" in spec:
        # Optuna's categories are scalars: lists (layer sizes) travel as text.
        choices = [json.dumps(c) if isinstance(c, list) else c for c in spec["choices"]]
        return trial.suggest_categorical(name, choices)
    low, high, log = spec["low"], spec["high"], spec.get("log", False)
    if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool):
        return trial.suggest_int(name, low, high, log=log)
    return trial.suggest_float(name, float(low), float(high), log=log)


def _settings(trial, space):
    """natgrad's `key=value` settings of a trial, sampled from `space`."""
    values = {name: _suggest(trial, name, spec) for name, spec in space.items()}
    settings = {}
    for name, value in values.items():
        if name == "net_arch":
            settings["policy_hidden"] = settings["value_hidden"] = _NET_ARCH[value]
        else:
            settings[name] = _toml_value(value)
    # As zoo: a minibatch no larger than the batch (one copy's steps there).
    if "critic_batch_size" in values and "n_steps" in values:
        settings["critic_batch_size"] = str(min(values["critic_batch_size"], values["n_steps"]))
    return settings


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # Lists (layer sizes) and numbers given as text stay as they are.
        try:
            tomllib.loads(f"x = {value}")
            return value
        except tomllib.TOMLDecodeError:
            return json.dumps(value)
    return repr(value)


def _storage(url):
    if url.endswith(".log"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(url))
    return url


def _worker_id():
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fail_dead_trials(study):
    """Trials left running by a worker of this machine that no longer exists
    (killed, or its machine rebooted) are failed, never counted complete."""
    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker", "")
        name, _, pid = worker.rpartition(":")
        if name == host and pid.isdigit() and not _alive(int(pid)):
            study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
            print(f"trial {t.number}: its worker {worker} is gone; failed", flush=True)


_COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


def _budget_spent(study, n_trials):
    return len(study.get_trials(deepcopy=False, states=_COUNTED)) >= n_trials


def _surplus(study, trial, n_trials):
    """Whether `trial` came after the study had all its trials: two workers
    can ask at the same moment; the storage numbers trials in order."""
    earlier = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number and t.state != TrialState.FAIL]
    return len(earlier) >= n_trials


def _evaluations(run_dir):
    """(step, mean return) of each evaluation the run has written."""
    try:
        with open(os.path.join(run_dir, "evaluations.csv")) as f:
            lines = f.read().splitlines()[1:]
    except FileNotFoundError:
        return []
    rows = []
    for line in lines:
        fields = line.split(",")
        try:
            rows.append((int(fields[0]), float(fields[1])))
        except (IndexError, ValueError):
            break  # a row being written
    return rows


class Tuner:
    def __init__(self, cfg):
        self.cfg = cfg
        self.space = _space(cfg)
        self.stop = threading.Event()
        self.children = set()
        self.lock = threading.Lock()
        self.folder = os.path.join(cfg["logdir"], cfg["study_name"])
        os.makedirs(self.folder, exist_ok=True)
        # Unseeded unless asked: workers that share a study with one seed
        # would draw the same first trials.
        seed = cfg["sampler_seed"]
        sampler = (
            optuna.samplers.RandomSampler(seed=seed)
            if cfg["sampler"] == "random"
            else optuna.samplers.TPESampler(n_startup_trials=cfg["n_startup_trials"], seed=seed)
        )
        pruner = (
            optuna.pruners.NopPruner()
            if cfg["pruner"] == "none"
            else optuna.pruners.MedianPruner(
                n_startup_trials=cfg["n_startup_trials"], n_warmup_steps=cfg["pruner_warmup_steps"]
            )
        )
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            self.study = optuna.create_study(
                study_name=cfg["study_name"],
                storage=_storage(cfg["storage"]),
                sampler=sampler,
                pruner=pruner,
                direction="maximize",
                load_if_exists=True,
            )
        except Exception as e:
            raise TuneError(f"cannot open the study {cfg['study_name']!r} in {cfg['storage']}: {e}") from e
        self._check_study_matches()

    def _check_study_matches(self):
        """A study holds one tuning: the same environment and algorithm."""
        what = {"env": self.cfg["env"], "algo": self.cfg["algo"]}
        for key, value in what.items():
            known = self.study.user_attrs.get(key)
            if known is None:
                self.study.set_user_attr(key, value)
            elif known != value:
                raise TuneError(
                    f"study {self.cfg['study_name']!r} tunes {key} {known!r}, not {value!r}; give another --study-name"
                )

    def _command(self, settings, run_name, seed):
        c = self.cfg
        command = [c["exe"], "train", "--algo", c["algo"], "--env", c["env"], "--seed", str(seed)]
        command += ["--total-steps", str(c["total_steps"]), "--eval-freq", str(c["eval_freq"])]
        command += ["--eval-episodes", str(c["eval_episodes"]), "--threads", "1", "--parallel-critic", "off"]
        command += ["--logdir", self.folder, "--run-name", run_name, "--quiet"]
        command += c["env_args"]
        for key, value in settings.items():
            command += ["--set", f"{key}={value}"]
        return command

    def _runs_of(self, trial):
        """(seed, run name) of each run of a trial: `trial_NNNN` for one
        seed, `trial_NNNN__seedS` for each of several."""
        base = f"trial_{trial.number:04d}"
        seeds = [self.cfg["seed"] + i for i in range(self.cfg["trial_seeds"])]
        if len(seeds) == 1:
            return [(seeds[0], base)]
        return [(seed, f"{base}__seed{seed}") for seed in seeds]

    def _run_trial(self, trial):
        """Trains the trial's settings on each of its seeds at once; reports
        the mean over seeds of each evaluation all of them have reached."""
        settings = _settings(trial, self.space)
        runs = self._runs_of(trial)
        dirs = [os.path.join(self.folder, name) for _, name in runs]
        trial.set_user_attr("run", ", ".join(dirs))
        trial.set_user_attr("settings", settings)
        logs = [os.path.join(self.folder, name + ".log") for _, name in runs]
        children = []
        for (seed, name), log_path in zip(runs, logs):
            with open(log_path, "w") as log:
                command = self._command(settings, name, seed)
                children.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        with self.lock:
            self.children.update(children)

        def mean_evaluations():
            per_run = [_evaluations(d) for d in dirs]
            common = min(len(rows) for rows in per_run)
            return [(per_run[0][i][0], sum(rows[i][1] for rows in per_run) / len(per_run)) for i in range(common)]

        reported = 0
        pruned_at = None

        def report(rows):
            """Reports the rows not yet reported, one at a time, asking the pruner after each: the
            decision depends on the evaluations alone, not on how many one poll happened to see
            (a short trial can finish between two polls). Returns the row it was pruned at, if any."""
            nonlocal reported
            for step, value in rows[reported:]:
                trial.report(value, step)
                reported += 1
                if trial.should_prune():
                    return (step, value)
            return None

        try:
            while pruned_at is None and any(c.poll() is None for c in children):
                time.sleep(0.2)
                pruned_at = report(mean_evaluations())
            if pruned_at is not None:
                for c in children:
                    if c.poll() is None:
                        c.send_signal(signal.SIGTERM)
            for c in children:
                c.wait()
        finally:
            with self.lock:
                self.children.difference_update(children)
        rows = mean_evaluations()
        if pruned_at is None:
            pruned_at = report(rows)
        if pruned_at is not None:
            self.study.tell(trial, state=TrialState.PRUNED)
            return f"pruned at {pruned_at[0]} steps (evaluation {pruned_at[1]:.1f})"
        failed = [(c, log) for c, log in zip(children, logs) if c.returncode != 0]
        if failed or not rows or any(len(_evaluations(d)) != len(rows) for d in dirs):
            self.study.tell(trial, state=TrialState.FAIL)
            if self.stop.is_set():
                return f"failed: interrupted (its run folders hold checkpoints: {', '.join(dirs)})"
            child, log_path = failed[0] if failed else (children[0], logs[0])
            with open(log_path) as f:
                last = (f.read().strip().splitlines() or ["no output"])[-1]
            return f"failed (exit status {child.returncode}): {last}"
        self.study.tell(trial, rows[-1][1])
        return f"complete, value {rows[-1][1]:.2f}"

    def _work(self):
        n_trials = self.cfg["n_trials"]
        while not self.stop.is_set():
            _fail_dead_trials(self.study)
            if _budget_spent(self.study, n_trials):
                return
            trial = self.study.ask()
            if _surplus(self.study, trial, n_trials):
                trial.set_user_attr("natgrad", "asked after the study had its trials; not run")
                self.study.tell(trial, state=TrialState.FAIL)
                print(f"trial {trial.number} ({_worker_id()}): not run, the study had its trials (left failed)", flush=True)
                return
            trial.set_user_attr("worker", _worker_id())
            outcome = self._run_trial(trial)
            print(f"trial {trial.number} ({_worker_id()}): {outcome}", flush=True)

    def _on_signal(self, signum, _frame):
        """Ctrl-C or SIGTERM: no new trial; the running ones stop after
        their iteration with a checkpoint (a terminal's Ctrl-C reaches them
        itself; a SIGTERM sent to natgrad tune alone is passed on)."""
        self.stop.set()
        with self.lock:
            for child in self.children:
                if child.poll() is None and signum != signal.SIGINT:
                    child.send_signal(signal.SIGTERM)

    def run(self):
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            workers = [threading.Thread(target=self._work) for _ in range(self.cfg["n_jobs"])]
            for w in workers:
                w.start()
            # Joined with a timeout, so that this (the main) thread runs the signal handlers.
            while any(w.is_alive() for w in workers):
                for w in workers:
                    w.join(0.2)
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)
        return self._summary()

    def _summary(self):
        trials = self.study.get_trials(deepcopy=False)
        counts = {state.name.lower(): sum(t.state == state for t in trials) for state in TrialState}
        summary = {"counts": counts, "interrupted": self.stop.is_set(), "folder": self.folder}
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if complete:
            best = max(complete, key=lambda t: t.value)
            summary["best"] = {
                "number": best.number,
                "value": best.value,
                "settings": best.user_attrs.get("settings", {}),
                "run": best.user_attrs.get("run", ""),
            }
        return summary


def run(config_json):
    cfg = json.loads(config_json)
    try:
        return json.dumps(Tuner(cfg).run())
    except TuneError:
        raise
    except optuna.exceptions.OptunaError as e:
        raise TuneError(str(e)) from e
