"""Whether the Redis server keeps every acknowledged write through a crash: its settings, read at start.

Redis acknowledges a write once it is in memory. Only ``appendonly yes`` with ``appendfsync always``
writes it to the append-only file and fsyncs before the answer; by default (``appendonly no``, or
``appendfsync everysec``) a crash of Redis or its machine loses what was acknowledged since the last
snapshot or the last second. A ``maxmemory-policy`` other than ``noeviction`` lets Redis delete
stored keys to make room. README "Storage" states the guarantee per setting.

Managed servers often refuse ``CONFIG``; the store then says it cannot tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import RedisCluster

from ..durability import Durability
from .connection import Connector, translate_error

__all__ = ["FIX", "assess", "read_durability"]

FIX = (
    "For every acknowledged write to survive, run Redis with appendonly yes, appendfsync always and "
    "maxmemory-policy noeviction (CONFIG SET, and in redis.conf)."
)
_SETTINGS = ("appendonly", "appendfsync", "maxmemory-policy")


def assess(config: Mapping[str, str], where: str) -> Durability:
    """What a server's ``CONFIG GET`` answers mean for acknowledged writes (``where`` names the server)."""
    appendonly = config.get("appendonly", "?")
    appendfsync = config.get("appendfsync", "?")
    policy = config.get("maxmemory-policy", "?")
    settings = f"{where}: appendonly {appendonly}, appendfsync {appendfsync}, maxmemory-policy {policy}"
    risks = []
    if appendonly != "yes":
        risks.append("acknowledged KV writes can be lost if Redis crashes: without the append-only file, only the "
                     "last snapshot survives")
    elif appendfsync == "everysec":
        risks.append("acknowledged KV writes of the last second or so can be lost if Redis or its machine crashes")
    elif appendfsync != "always":
        risks.append("acknowledged KV writes can be lost if Redis or its machine crashes: the operating system "
                     "decides when the append-only file reaches the disk")
    if policy != "noeviction":
        risks.append(f"Redis may delete stored keys when it runs out of memory (maxmemory-policy {policy})")
    if not risks:
        return Durability(True, settings)
    return Durability(False, settings, _sentence("; ".join(risks)), FIX)


async def read_durability(connector: Connector) -> Durability:
    """Read the persistence settings of the server (of every primary of a Cluster); the worst one wins."""
    client, cluster = await connector.client()
    settings = connector.settings
    try:
        if cluster:
            assert isinstance(client, RedisCluster)
            found = []
            for node in client.get_primaries():
                config = await _config(client, target_nodes=node)
                found.append(assess(config, f"{node.host}:{node.port}"))
            return next((each for each in found if not each.durable), found[0])
        return assess(await _config(client), settings.address)
    except redis_errors.ResponseError as exc:
        return Durability(
            None,
            f"{settings.address}: CONFIG GET refused ({exc})",
            "workerhost cannot tell whether Redis keeps acknowledged KV writes through a crash",
            FIX,
        )
    except (redis_errors.RedisError, OSError) as exc:
        raise translate_error(exc, settings) from None


async def _config(client: Any, **options: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in _SETTINGS:  # one name per call: CONFIG GET takes several only from Redis 7
        answer = await client.config_get(name, **options)
        found.update({_text(key): _text(value) for key, value in answer.items()})
    return found


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]

