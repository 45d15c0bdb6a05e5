"""NATS users and permissions: every service connects as its own user and may publish only its own
events and read only what it consumes. Restricted subjects (key people) are readable by due diligence
alone.

JetStream moves everything through ``$JS.API.*`` requests and replies to the requester's inbox, so plain
subscribe permissions are not enough: each user gets its own inbox prefix (``_INBOX_<service>``), may
create pull consumers only with the filter subjects it is granted (nats-py sends the filter in the
``$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`` subject when the consumer has a ``name``), and may
never pull from, inspect or acknowledge the restricted readers' consumers. Streams it does not own it
may look up and create with the standard configuration (start-up order), but never update.

:func:`permissions` is the one table; :func:`server_config` renders it for ``nats-server`` (the embedded
launcher's generated users, or ``deploy/nats/nats-server.conf`` with passwords from the environment).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tejido_common.events import DEAD_LETTER_PREFIX

SERVICES = ("registry", "matching", "duediligence", "reporting", "gateway")
# Event types whose schema says ``x-restricted: true``, and the only service that may read them.
RESTRICTED_SUBJECTS = ("registry.organization.people_updated.v1",)
RESTRICTED_READER = "duediligence"

PUBLIC_REGISTRY = (
    "registry.organization.registered.v1",
    "registry.organization.updated.v1",
    "registry.organization.archived.v1",
    "registry.alliance.>",
)
# service → stream → filter subjects its consumers may use. A new consumer needs its row here.
CONSUMES: dict[str, dict[str, tuple[str, ...]]] = {
    "registry": {"DUEDILIGENCE": ("duediligence.>",)},
    "matching": {"REGISTRY": PUBLIC_REGISTRY, "DUEDILIGENCE": ("duediligence.>",)},
    # Screening needs the key people: the one consumer of the restricted subject.
    "duediligence": {"REGISTRY": ("registry.organization.>",)},
    "reporting": {
        "REGISTRY": PUBLIC_REGISTRY,
        "DUEDILIGENCE": ("duediligence.>",),
        "MATCHING": ("matching.>",),
    },
    # Webhooks for funders: public events only.
    "gateway": {
        "REGISTRY": PUBLIC_REGISTRY,
        "DUEDILIGENCE": ("duediligence.>",),
        "MATCHING": ("matching.>",),
        "REPORTING": ("reporting.>",),
    },
}
DEAD_LETTER = "DEADLETTER"


def inbox_prefix(service: str) -> str:
    return f"_INBOX_{service}"


def _reads_restricted(filter_subject: str) -> bool:
    """Whether a consumer on ``filter_subject`` would receive a restricted subject."""
    for subject in RESTRICTED_SUBJECTS:
        f, s = filter_subject.split("."), subject.split(".")
        for i, part in enumerate(f):
            if part == ">":
                return True
            if i >= len(s) or part not in ("*", s[i]):
                break
        else:
            if len(f) == len(s):
                return True
    return False


def permissions(service: str) -> dict[str, Any]:
    """The ``permissions`` block of ``service``'s NATS user."""
    own_stream = service.upper()
    consumed = CONSUMES.get(service, {})
    api = "$JS.API"
    publish = [f"{service}.>", f"{DEAD_LETTER_PREFIX}.>", f"{api}.INFO"]
    for stream in (own_stream, DEAD_LETTER):
        publish += [f"{api}.STREAM.{action}.{stream}" for action in ("INFO", "CREATE", "UPDATE")]
    deny: list[str] = []
    for stream, filters in consumed.items():
        publish += [f"{api}.STREAM.INFO.{stream}", f"{api}.STREAM.CREATE.{stream}"]
        for f in filters:
            # Restricted filters only under the restricted reader's own consumer name.
            name = service if _reads_restricted(f) else "*"
            publish.append(f"{api}.CONSUMER.CREATE.{stream}.{name}.{f}")
        publish += [
            f"{api}.CONSUMER.INFO.{stream}.*",
            f"{api}.CONSUMER.MSG.NEXT.{stream}.*",
            f"$JS.ACK.{stream}.*.>",
        ]
        if service != RESTRICTED_READER and any(
            s.split(".")[0] == stream.lower() for s in RESTRICTED_SUBJECTS
        ):
            # The restricted reader's consumer on this stream carries restricted messages: hands off.
            reader = RESTRICTED_READER
            deny += [
                f"{api}.CONSUMER.CREATE.{stream}.{reader}.>",
                f"{api}.CONSUMER.INFO.{stream}.{reader}",
                f"{api}.CONSUMER.MSG.NEXT.{stream}.{reader}",
                f"$JS.ACK.{stream}.{reader}.>",
            ]
    block: dict[str, Any] = {
        "publish": {"allow": publish},
        "subscribe": {"allow": [f"{inbox_prefix(service)}.>"]},
    }
    if deny:
        block["publish"]["deny"] = deny
    return block


def server_config(passwords: Mapping[str, str]) -> str:
    """The ``authorization`` block for ``nats-server`` with one user per service. A password may be a
    ``$VARIABLE`` reference, which nats-server reads from its environment (compose, Kubernetes)."""
    users = []
    for service in SERVICES:
        if service not in passwords:
            continue
        password = passwords[service]
        rendered = password if password.startswith("$") else json.dumps(password)
        perms = json.dumps(permissions(service), indent=2).replace("\n", "\n    ")
        users.append(
            f"  {{\n    user: {json.dumps(service)}\n    password: {rendered}\n    permissions: {perms}\n  }}"
        )
    return "authorization {\n users = [\n" + "\n".join(users) + "\n ]\n}\n"
