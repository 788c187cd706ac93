#!/usr/bin/env python3
"""A robot client for the DiffPolicy.Control policy server, as a robotics user would write it.

A point mass moves toward each commanded position. Every control tick (10 Hz by default, from the server's
`welcome`) it sends its observation; when the planned actions run low it asks for a new chunk. Chunks are
executed at their step indices: actions for steps already passed are dropped (latency compensation), and a tick
with no planned action is a deadline miss (the robot holds position). Protocol: docs/protocol.md.

    /usr/bin/python3 examples/python_robot.py --connect tcp://127.0.0.1:5555 --duration 10

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


def observation(robot, obs_keys):
    # The point mass fills "agent_pos"-like keys (shape [action_dim]) with its position, anything else with zeros.
    data = {}
    for key in obs_keys:
        shape = tuple(key["shape"])
        if shape == robot.position.shape:
            data[key["name"]] = float32_bin(robot.position)
        else:
            data[key["name"]] = float32_bin(np.zeros(shape, dtype=np.float32))
    return data


def run(args):
    link = Link(args.connect)
    try:
        welcome = handshake(link, args.name)
    except (TimeoutError, ProtocolFailure) as failure:
        print(f"handshake failed: {failure}", file=sys.stderr)
        link.close()
        return 2, None

    policy = welcome
    n_actions, action_dim = policy["n_action_steps"], policy["action_dim"]
    hz = args.hz or policy["control_hz"]
    dt = 1.0 / hz
    lead = args.lead if args.lead is not None else max(1, n_actions // 2)
    robot = PointMass(action_dim)
    plan = {}  # step index -> action
    stats = {"handshake": True, "robot": args.name, "server": welcome["server"], "ticks": 0, "chunks": 0,
             "actions_executed": 0, "stale_actions_dropped": 0, "deadline_misses": 0, "startup_ticks": 0,
             "rehellos": 0, "pongs": 0, "protocol_errors": 0}
    latencies_ms = []
    seq = 0
    episode = 0
    pending = None  # (seq, sent_at) of the observation we asked a chunk for
    step = 0
    next_tick = time.monotonic()
    next_ping = next_tick
    end = next_tick + args.duration
    status = 0

    while time.monotonic() < end:
        # 1. Take in everything that arrived.
        session_lost = False
        while True:
            message = link.receive(0)
            if message is None:
                break
            kind = message["type"]
            if kind == "actions":
                if message["episode"] != episode:
                    continue
                actions = np.frombuffer(message["actions"], dtype="<f4").reshape(message["n_actions"], message["action_dim"])
                start = message["start_step"]
                for i, action in enumerate(actions):
                    if start + i < step:
                        stats["stale_actions_dropped"] += 1
                    else:
                        plan[start + i] = action  # a newer chunk replaces the older one from its start on
                stats["chunks"] += 1
                if pending and pending[0] == message["obs_seq"]:
                    latencies_ms.append((time.monotonic() - pending[1]) * 1000)
                    pending = None
            elif kind == "pong":
                stats["pongs"] += 1
                if not message["session"]:
                    session_lost = True
            elif kind == "error":
                if message["code"] == "no_session":
                    session_lost = True
                else:
                    stats["protocol_errors"] += 1
                    print(f"protocol error: {message['code']}: {message['message']}", file=sys.stderr)
                    status = 1
            else:
                stats["protocol_errors"] += 1
                print(f"unexpected message type {kind!r}", file=sys.stderr)
                status = 1
        if status:
            break
        if session_lost:
            # The server restarted (or forgot us): open a new session and start a new episode.
            handshake(link, args.name)
            stats["rehellos"] += 1
            plan.clear()
            pending = None
            episode += 1
            step = 0

        # 2. Observe (before acting on this step), asking for a chunk when the plan runs low.
        remaining = sum(1 for s in plan if s >= step)
        stale_request = pending is not None and time.monotonic() - pending[1] > 1.0
        infer = remaining <= lead and (pending is None or stale_request)
        seq += 1
        link.send({"type": "obs", "seq": seq, "episode": episode, "step": step, "t": time.time(), "infer": infer,
                   "obs": observation(robot, policy["obs_keys"])})
        if infer:
            pending = (seq, time.monotonic())

        # 3. Act: the planned action for this step, else hold position (a deadline miss once chunks flow).
        action = plan.pop(step, None)
        for old in [s for s in plan if s < step]:
            del plan[old]
        if action is not None:
            robot.act(action)
            stats["actions_executed"] += 1
        elif stats["chunks"] == 0:
            stats["startup_ticks"] += 1
        else:
            stats["deadline_misses"] += 1

        if time.monotonic() >= next_ping:
            link.send({"type": "ping", "seq": seq, "t": time.time()})
            next_ping += 1.0

        stats["ticks"] += 1
        step += 1
        next_tick += dt
        time.sleep(max(0.0, next_tick - time.monotonic()))

    link.send({"type": "bye"})
    link.close()
    if latencies_ms:
        stats["latency_ms_p50"] = float(np.percentile(latencies_ms, 50))
        stats["latency_ms_p99"] = float(np.percentile(latencies_ms, 99))
        stats["latency_ms_max"] = float(np.max(latencies_ms))
    stats["final_position"] = robot.position.tolist()
    return status, stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", default="tcp://127.0.0.1:5555", help="server endpoint")
    parser.add_argument("--name", default="python-robot", help="robot name, [A-Za-z0-9_.-]{1,64}")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to run")
    parser.add_argument("--hz", type=float, default=None, help="control rate (default: the policy's control_hz)")
    parser.add_argument("--lead", type=int, default=None, help="ask for a chunk when this many planned actions remain (default n_action_steps/2)")
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
