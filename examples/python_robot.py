#!/usr/bin/env python3
"""A robot client for the DiffPolicy.Control policy server, as a robotics user would write it.

A point mass moves toward each commanded position. Every control tick (10 Hz by default, from the server's
`welcome`) it sends its observation; when the planned actions run low it asks for a new chunk. A chunk holds the
policy's predicted actions from the observation's step to the end of its horizon; the robot replans every
n_action_steps steps and the rest of the prediction covers the inference latency. Chunks are executed at their step
indices: actions for steps already passed are dropped (latency compensation), and a tick with no planned action is
a deadline miss (the robot holds position). Protocol: docs/protocol.md.

    /usr/bin/python3 examples/python_robot.py --connect tcp://127.0.0.1:5555 --duration 10

Image mode: when the policy's `welcome` declares rgb keys (a camera policy, e.g. one imported from
diffusion_policy), every observation carries a synthetic camera frame for each of them, u8 height × width × 3.

Exit status: 0 on success, 1 on a protocol error from the server, 2 when the handshake fails.
Needs pyzmq, msgpack and numpy (Debian: python3-zmq python3-msgpack python3-numpy).
"""
import argparse
import json
import sys
import time

import msgpack
import numpy as np
import zmq

PROTOCOL = 1


class ProtocolFailure(Exception):
    pass


class Link:
    """A DEALER socket speaking one-frame MessagePack maps."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.context = zmq.Context.instance()
        self.socket = None
        self.open()

    def open(self):
        if self.socket is not None:
            self.socket.close(linger=0)
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SNDHWM, 100)
        self.socket.connect(self.endpoint)

    def send(self, message):
        try:
            self.socket.send(msgpack.packb(message, use_bin_type=True), flags=zmq.NOBLOCK)
            return True
        except zmq.Again:
            return False

    def receive(self, timeout_s):
        if not self.socket.poll(int(timeout_s * 1000)):
            return None
        frames = self.socket.recv_multipart()
        if len(frames) != 1:
            raise ProtocolFailure(f"expected one frame, got {len(frames)}")
        message = msgpack.unpackb(frames[0], raw=False, max_bin_len=1 << 20, max_str_len=1 << 16)
        if not isinstance(message, dict) or "type" not in message:
            raise ProtocolFailure(f"not a message: {message!r}")
        return message

    def close(self):
        self.socket.close(linger=0)


def float32_bin(values):
    return np.asarray(values, dtype="<f4").tobytes()


def handshake(link, name, timeout_s=5.0):
    link.send({"type": "hello", "protocol": PROTOCOL, "robot": name})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = link.receive(deadline - time.monotonic())
        if message is None:
            break
        if message["type"] == "welcome":
            return message
        if message["type"] == "error" and message["code"] != "no_session":  # no_session answers an earlier obs
            raise ProtocolFailure(f"hello refused: {message['code']}: {message['message']}")
    raise TimeoutError(f"no welcome from {link.endpoint} within {timeout_s} s")


class PointMass:
    """Moves a fraction of the way to the commanded position each tick."""

    def __init__(self, dim, gain=0.5):
        self.position = np.zeros(dim, dtype=np.float32)
        self.gain = gain

    def act(self, target):
        self.position += self.gain * (np.asarray(target, dtype=np.float32) - self.position)


def camera_frame(robot, height, width):
    """Image mode: what a camera above the point mass would deliver, (height, width, 3) uint8 RGB, row-major: a grey
    floor and a red disc at the position (the first two coordinates, read as pixels from the top-left corner)."""
    frame = np.full((height, width, 3), 200, dtype=np.uint8)
    rows, cols = np.mgrid[0:height, 0:width]
    y = float(robot.position[1]) if robot.position.size > 1 else height / 2
    x = float(robot.position[0]) if robot.position.size > 0 else width / 2
    disc = (rows - np.clip(y, 0, height - 1)) ** 2 + (cols - np.clip(x, 0, width - 1)) ** 2 <= (min(height, width) / 10) ** 2
    frame[disc] = (220, 40, 40)
    return frame


def observation(robot, obs_keys):
    # low_dim keys shaped like the action ("agent_pos") carry the position, other low_dim keys zeros; rgb keys (image
    # mode, docs/protocol.md "Camera frames") carry a camera frame as u8 bytes, height × width × 3.
    data = {}
    for key in obs_keys:
        shape = tuple(key["shape"])
        if key.get("type", "low_dim") == "rgb":
            height, width, channels = shape
            data[key["name"]] = camera_frame(robot, height, width).tobytes()
        elif shape == robot.position.shape:
            data[key["name"]] = float32_bin(robot.position)
        else:
            data[key["name"]] = float32_bin(np.zeros(shape, dtype=np.float32))
    return data


class RealTimeRobot:
    """Steps are wall-clock ticks: step k starts at start + k·dt. A late tick skips steps instead of catching up."""

    def __init__(self, link, name, welcome, lead):
        self.link, self.name, self.policy = link, name, welcome
        self.dt = 1.0 / welcome["control_hz"]
        if lead is None:
            # Ask again once n_action_steps actions of the newest chunk have begun; the rest of it bridges the latency.
            rest = welcome["horizon"] - welcome["n_obs_steps"] + 1 - welcome["n_action_steps"]
            lead = rest if rest > 0 else max(1, welcome["n_action_steps"] // 2)
        self.lead = lead
        self.robot = PointMass(welcome["action_dim"])
        self.plan = {}  # step index -> action
        self.seq = 0
        self.episode = 0
        self.step = -1
        self.pending = None  # (seq, sent_at) of the observation a chunk was asked for
        self.session_lost = False
        self.session_first_seq = 1  # no_session answers to observations sent before the latest hello are old news
        self.failed = False
        self.latencies_ms = []
        self.server_ms = {"queue_ms": [], "infer_ms": []}
        self.stats = {"handshake": True, "robot": name, "server": welcome["server"], "ticks": 0, "skipped_steps": 0,
                      "chunks": 0, "actions_executed": 0, "stale_actions_dropped": 0, "deadline_misses": 0,
                      "startup_ticks": 0, "rehellos": 0, "pongs": 0, "protocol_errors": 0}

    def take(self, message):
        kind = message["type"]
        if kind == "actions":
            if message["episode"] != self.episode:
                return
            actions = np.frombuffer(message["actions"], dtype="<f4").reshape(message["n_actions"], message["action_dim"])
            start = message["start_step"]
            for i, action in enumerate(actions):
                if start + i <= self.step:
                    self.stats["stale_actions_dropped"] += 1  # its step has begun or passed: too late
                else:
                    self.plan[start + i] = action  # a newer chunk replaces the older one from its start on
            self.stats["chunks"] += 1
            for key, values in self.server_ms.items():
                values.append(message[key])
            if self.pending and self.pending[0] == message["obs_seq"]:
                self.latencies_ms.append((time.monotonic() - self.pending[1]) * 1000)
                self.pending = None
        elif kind == "pong":
            self.stats["pongs"] += 1
            if not message["session"]:
                self.session_lost = True
        elif kind == "error" and message["code"] == "no_session":
            if message.get("ref_seq", self.session_first_seq) >= self.session_first_seq:
                self.session_lost = True
        else:
            self.stats["protocol_errors"] += 1
            detail = f"{message['code']}: {message['message']}" if kind == "error" else f"unexpected {kind!r}"
            print(f"protocol error: {detail}", file=sys.stderr)
            self.failed = True

    def tick(self, step):
        if step > self.step + 1 and self.step >= 0:
            self.stats["skipped_steps"] += step - self.step - 1
        self.step = step
        if self.session_lost:
            # The server restarted (or forgot us): open a new session and start a new episode.
            handshake(self.link, self.name)
            self.stats["rehellos"] += 1
            self.session_lost = False
            self.session_first_seq = self.seq + 1
            self.plan.clear()
            self.pending = None
            self.episode += 1

        # Observe (before acting on this step); ask for a chunk when the plan runs low.
        remaining = sum(1 for s in self.plan if s >= step)
        stale_request = self.pending is not None and time.monotonic() - self.pending[1] > 1.0
        infer = remaining <= self.lead and (self.pending is None or stale_request)
        self.seq += 1
        self.link.send({"type": "obs", "seq": self.seq, "episode": self.episode, "step": step, "t": time.time(),
                        "infer": infer, "obs": observation(self.robot, self.policy["obs_keys"])})
        if infer:
            self.pending = (self.seq, time.monotonic())

        # Act: the planned action for this step, else hold position (a deadline miss once chunks flow).
        action = self.plan.pop(step, None)
        for old in [s for s in self.plan if s < step]:
            del self.plan[old]
        if action is not None:
            self.robot.act(action)
            self.stats["actions_executed"] += 1
        elif self.stats["chunks"] == 0:
            self.stats["startup_ticks"] += 1
        else:
            self.stats["deadline_misses"] += 1
        self.stats["ticks"] += 1

    def summary(self):
        stats = dict(self.stats)
        if self.latencies_ms:
            for q in (50, 99):
                stats[f"latency_ms_p{q}"] = float(np.percentile(self.latencies_ms, q))
            stats["latency_ms_max"] = float(np.max(self.latencies_ms))
        for key, values in self.server_ms.items():
            if values:
                stats[f"server_{key}_max"] = float(np.max(values))
        stats["final_position"] = self.robot.position.tolist()
        stats["cameras"] = [key["name"] for key in self.policy["obs_keys"] if key.get("type") == "rgb"]
        return stats


def run(args):
    link = Link(args.connect)
    try:
        welcome = handshake(link, args.name)
    except (TimeoutError, ProtocolFailure) as failure:
        print(f"handshake failed: {failure}", file=sys.stderr)
        link.close()
        return 2, None
    if args.hz:
        welcome["control_hz"] = args.hz
    robot = RealTimeRobot(link, args.name, welcome, args.lead)
    start = time.monotonic()
    end = start + args.duration
    next_ping = start
    while not robot.failed:
        now = time.monotonic()
        if now >= end:
            break
        robot.tick(int((now - start) / robot.dt))
        if now >= next_ping:
            link.send({"type": "ping", "seq": robot.seq, "t": time.time()})
            next_ping = now + 1.0
        # Until the next tick, take replies in as they arrive.
        next_tick = start + (robot.step + 1) * robot.dt
        while not robot.failed and (wait := next_tick - time.monotonic()) > 0:
            message = link.receive(wait)
            if message is not None:
                robot.take(message)
    link.send({"type": "bye"})
    link.close()
    return (1 if robot.failed else 0), robot.summary()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", default="tcp://127.0.0.1:5555", help="server endpoint")
    parser.add_argument("--name", default="python-robot", help="robot name, [A-Za-z0-9_.-]{1,64}")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to run")
    parser.add_argument("--hz", type=float, default=None, help="control rate (default: the policy's control_hz)")
    parser.add_argument("--lead", type=int, default=None, help="ask for a chunk when this many planned actions remain "
                        "(default horizon - n_obs_steps + 1 - n_action_steps: a new chunk every n_action_steps steps)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    args = parser.parse_args()
    try:
        status, stats = run(args)
    except ProtocolFailure as failure:
        print(f"protocol error: {failure}", file=sys.stderr)
        return 1
    except TimeoutError as failure:
        print(f"handshake failed: {failure}", file=sys.stderr)
        return 2
    if stats is not None:
        if args.json:
            print(json.dumps(stats))
        else:
            for key, value in stats.items():
                print(f"{key:>22}: {value}")
    return status


if __name__ == "__main__":
    sys.exit(main())
