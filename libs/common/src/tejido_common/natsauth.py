"""NATS users and permissions: every service connects as its own user and may publish only its own
events and read only what it consumes. Restricted event types (``x-restricted`` in their schema: key
people, screening hits) are readable by due diligence alone, by any path.

JetStream moves everything through ``$JS.API.*`` requests and replies to the requester's inbox, so plain
subscribe permissions are not enough: each user gets its own inbox prefix (``_INBOX_<service>``), may
create pull consumers only with the filter subjects it is granted (nats-py sends the filter in the
``$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`` subject when the consumer has a ``name`` and one
filter; nobody may create an unnamed consumer, whose filter only travels in the body), and may never
pull from, inspect or acknowledge the restricted reader's consumers. No service may get stored messages
(``STREAM.MSG.GET``, ``DIRECT.GET``) or subscribe to stream subjects. No service may create, update,
delete or purge a stream (NATS does not check a stream's ``sources``/``republish`` against permissions):
the operator provisions them (``tejido_common.streams``); services only look them up.

:func:`permissions` is the one table; :func:`server_config` renders it for ``nats-server`` (the embedded
launcher's generated users, or ``deploy/nats/nats-server.conf`` with passwords from the environment).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from tejido_common.consumer import family_durable, type_family
from tejido_common.events import DEAD_LETTER_PREFIX

SERVICES = ("registry", "matching", "duediligence", "reporting", "gateway")
# The embedded platform's operations user (``tejido deadletter``, observers in tests): everything, like
# an administrator. Deployments give their operators their own NATS credentials instead.
OPERATOR = "operator"


def _schemas() -> dict[str, dict[str, Any]]:
    folder = resources.files("tejido_common") / "event_schemas"
    return {
        p.name.removesuffix(".json"): json.loads(p.read_text(encoding="utf-8"))
        for p in folder.iterdir()
        if p.name.endswith(".json")
    }


@cache
def restricted_subjects() -> tuple[str, ...]:
    """Event types whose checked-in schema says ``x-restricted: true``. The schemas are generated from
    the contracts (``EventContract.restricted``) and a test keeps the two equal: one source of truth."""
    return tuple(sorted(t for t, schema in _schemas().items() if schema.get("x-restricted")))


def public_families(stream: str) -> tuple[str, ...]:
    """The type families of ``stream``'s public events (every version), for readers of everything
    public: a wildcard over the stream would carry its restricted types too."""
    prefix = stream.lower() + "."
    return tuple(
        sorted({type_family(t) for t in _schemas() if t.startswith(prefix) and t not in RESTRICTED_SUBJECTS})
    )


RESTRICTED_SUBJECTS = restricted_subjects()
# The only service that may read them (the producer of screening hits; key people feed screening).
RESTRICTED_READER = "duediligence"

# Consumers subscribe to every version of each type they handle (``registry.organization.updated.*``,
# see ``tejido_common.consumer``), one durable per type, so grants name type families.
PUBLIC_REGISTRY = (
    "registry.organization.registered.*",
    "registry.organization.updated.*",
    "registry.organization.archived.*",
    "registry.alliance.>",
)
ORGANIZATION_FAMILIES = (*PUBLIC_REGISTRY[:3], "registry.organization.people_updated.*")
# service → stream → filter subjects its consumers may use. A new consumer needs its row here.
CONSUMES: dict[str, dict[str, tuple[str, ...]]] = {
    "registry": {"DUEDILIGENCE": ("duediligence.rating.published.*",)},
    "matching": {
        "REGISTRY": PUBLIC_REGISTRY,
        "DUEDILIGENCE": ("duediligence.rating.published.*", "duediligence.flag.changed.*"),
    },
    # Screening needs the key people: the one consumer of the restricted subject.
    "duediligence": {"REGISTRY": ORGANIZATION_FAMILIES},
    "reporting": {
        "REGISTRY": PUBLIC_REGISTRY,
        "DUEDILIGENCE": ("duediligence.rating.published.*",),
        "MATCHING": ("matching.>",),
        # Observations sent as events by other systems (its own stream).
        "REPORTING": ("reporting.observation.submitted.*",),
    },
    # Webhooks for funders: public events only.
    "gateway": {
        "REGISTRY": PUBLIC_REGISTRY,
        "DUEDILIGENCE": public_families("DUEDILIGENCE"),
        "MATCHING": ("matching.>",),
        "REPORTING": ("reporting.>",),
    },
}
DEAD_LETTER = "DEADLETTER"
# Services that publish no events, so have no stream of their own (the gateway).
NON_PRODUCERS = ("gateway",)
# Matching's workers: ranking requests over core NATS request/reply (``rpc.`` is outside every stream, so
# JetStream never answers them). Their in-memory read models follow the streams through *named*,
# non-durable consumers with one filter each (checked like every other consumer): nobody may create an
# unnamed (ephemeral) consumer, whose filter NATS could not check.
# The gateway's replicas share their rate-limit counts the same way (``rpc.gateway.ratelimit``).
RPC_SUBJECTS: dict[str, tuple[str, ...]] = {"matching": ("rpc.matching.>",), "gateway": ("rpc.gateway.>",)}


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


def restricted_readers(stream: str) -> list[str]:
    """The names of the restricted reader's consumers on ``stream`` that carry restricted types."""
    return sorted(
        {
            family_durable(RESTRICTED_READER, f)
            for f in CONSUMES.get(RESTRICTED_READER, {}).get(stream, ())
            if _reads_restricted(f)
        }
    )


def permissions(service: str) -> dict[str, Any]:
    """The ``permissions`` block of ``service``'s NATS user."""
    if service == OPERATOR:
        return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    own_stream = service.upper()
    consumed = CONSUMES.get(service, {})
    api = "$JS.API"
    publish = [f"{service}.>", f"{DEAD_LETTER_PREFIX}.>", f"{api}.INFO"]
    # NATS does not check a stream's configuration against the user's permissions: whoever may create
    # or update a stream may give it ``sources`` (any stream of the account) and ``republish`` to its
    # own inbox, and so copy restricted events. So no service creates, updates, deletes, purges,
    # snapshots or restores a stream: a provisioning identity (the operator, ``tejido streams
    # provision``) does, and services only look up the streams they write and read.
    if service not in NON_PRODUCERS:
        publish.append(f"{api}.STREAM.INFO.{own_stream}")
    publish.append(f"{api}.STREAM.INFO.{DEAD_LETTER}")
    deny: list[str] = []
    for stream, filters in consumed.items():
        publish.append(f"{api}.STREAM.INFO.{stream}")
        for f in filters:
            # Restricted filters only under the restricted reader's own consumer name.
            name = family_durable(service, f) if _reads_restricted(f) else "*"
            publish.append(f"{api}.CONSUMER.CREATE.{stream}.{name}.{f}")
        publish += [
            f"{api}.CONSUMER.INFO.{stream}.*",
            f"{api}.CONSUMER.MSG.NEXT.{stream}.*",
            f"$JS.ACK.{stream}.*.>",
        ]
        if service != RESTRICTED_READER:
            # The restricted reader's consumers on this stream carry restricted messages: hands off.
            for reader in restricted_readers(stream):
                deny += [
                    f"{api}.CONSUMER.CREATE.{stream}.{reader}.>",
                    f"{api}.CONSUMER.INFO.{stream}.{reader}",
                    f"{api}.CONSUMER.MSG.NEXT.{stream}.{reader}",
                    f"$JS.ACK.{stream}.{reader}.>",
                ]
    rpc = list(RPC_SUBJECTS.get(service, ()))
    if rpc:
        # Workers answer requests of their own service, whose inboxes carry its prefix.
        publish += [*rpc, f"{inbox_prefix(service)}.>"]
    block: dict[str, Any] = {
        "publish": {"allow": publish},
        "subscribe": {"allow": [f"{inbox_prefix(service)}.>", *rpc]},
    }
    if deny:
        block["publish"]["deny"] = deny
    return block


def server_config(passwords: Mapping[str, str]) -> str:
    """The ``authorization`` block for ``nats-server`` with one user per service. A password may be a
    ``$VARIABLE`` reference, which nats-server reads from its environment (compose, Kubernetes)."""
    users = []
    for service in (*SERVICES, OPERATOR):
        if service not in passwords:
            continue
        password = passwords[service]
        rendered = password if password.startswith("$") else json.dumps(password)
        perms = json.dumps(permissions(service), indent=2).replace("\n", "\n    ")
        users.append(
            f"  {{\n    user: {json.dumps(service)}\n    password: {rendered}\n    permissions: {perms}\n  }}"
        )
    return "authorization {\n users = [\n" + "\n".join(users) + "\n ]\n}\n"
