"""The owners' writes killed with SIGKILL at the instant the server commits, through the real CLI, a real server and
Docker: the benchmark owner's `container submit` and `benchmark submit`, the admin's `benchmark approve`, the model
owner's `container associate`, the benchmark owner's `association approve`, `set_priority` and
`update_associations_policy`. After each kill the same command is run again and `medperf sync` reports nothing
pending; at the end the server holds every write exactly once and both logs verify and replay."""

from __future__ import annotations

import json
import os
from pathlib import Path

from _e2e import medperf_binary, require_platform
from test_whole_life import CNN, METRICS, MOBILE, PREP, Life, W, container_args

from medperf_core.testing.crash_trials import _server_types, kill_at_commit
from medperf_core.testing.server import start_server


class Owners(Life):
    """`Life`, its server restarted (same port and data) holding every answer back for a second after its commit."""

    def __init__(self, root: Path, home: Path) -> None:
        super().__init__(root, home)
        port = int(self.url.rsplit(":", 1)[1])
        self.server.stop()
        self.server = start_server(self.data_dir, port, env={"MEDPERF_HOME": str(self.server_home),
                                                             "MEDPERF_SERVER_COMMIT_DELAY": "1.0"})
        self.killed: list[str] = []

    def crash(self, event: str, *args: str, again: str) -> None:
        """Kill `medperf args` right after the server committed `event`; run it again (it must say `again`)
        and `medperf sync`: nothing may stay pending, and the server must hold exactly one more `event`."""
        before = _server_types(self.data_dir).count(event)
        env = {**os.environ, "MEDPERF_HOME": str(self.home)}
        if kill_at_commit([*medperf_binary(), *args], cwd=self.work, env=env, data=self.data_dir, event=event):
            self.killed.append(args[1] if args[0] != "container" else f"container {args[1]}")
        rerun = self.medperf(*args).stdout
        assert again in rerun, rerun
        synced = json.loads(self.medperf("sync", "--json").stdout)
        assert synced["still_pending"] == 0, synced
        assert _server_types(self.data_dir).count(event) == before + 1, f"{args}: not exactly one {event}"


def test_owner_writes_killed_at_the_commit_are_made_exactly_once(tmp_path: Path, medperf_home: Path) -> None:
    require_platform("docker")
    t = Owners(tmp_path / "life", medperf_home)
    try:
        t.login("bo")
        t.crash("container.registered", *container_args("my-prep", PREP),
                again="✅ Container registered with UID 1 (OPERATION)")
        t.medperf(*container_args("my-refmodel", CNN, "cnn_weights.tar.gz"))
        t.medperf(*container_args("my-metrics", METRICS))
        t.crash("benchmark.registered", "benchmark", "submit", "--name", "tutorial_bmk", "--description", "demo",
                "--demo-url", f"{W}/demo_data.tar.gz", "--data-preparation-container", "1",
                "--reference-model-container", "2", "--evaluator-container", "3", "--operational", "-y",
                again="✅ Benchmark registered with UID 1 (OPERATION, approval PENDING)")
        t.login("admin")
        t.crash("benchmark.approved", "benchmark", "approve", "-b", "1", again="✅ Benchmark 1: APPROVED")
        t.login("mo")
        t.medperf(*container_args("my-model", MOBILE, "mobilenetv2_weights.tar.gz"))
        t.crash("association.requested", "container", "associate", "--benchmark", "1", "--model_uid", "4", "-y",
                again="✅ Association requested (status PENDING)")
        t.login("bo")
        t.crash("association.approved", "association", "approve", "-b", "1", "-m", "4",
                again="✅ Association of model 4 with benchmark 1: APPROVED")
        t.crash("association.priority_set", "association", "set_priority", "-b", "1", "-m", "4", "-p", "3",
                again="priority 3")
        t.crash("benchmark.association_policy_changed", "benchmark", "update_associations_policy", "-b", "1",
                "--dataset_auto_approve_mode", "ALWAYS", again="✅ Association policy of benchmark 1 updated")
        # every kill landed between the server's commit and the client's record of it
        assert len(t.killed) == 7, t.killed
        server = _server_types(t.data_dir)
        assert server.count("container.registered") == 4 and server.count("benchmark.registered") == 1
        events = [e["type"] for e in t.events()]
        assert events.count("request.pending") == events.count("request.done") + events.count("request.failed")
        assert events.count("request.failed") == 0
        for command in (("events", "verify"), ("events", "replay", "--check-only")):
            t.medperf(*command)
    finally:
        t.close()
