"""Random sequences of put/get/delete/list/expire (here and through a second store) against a plain reference model."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from typing import Any

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bindings import KVNamespace, ManualClock, SqliteStore

START = 1_000_000

# A small alphabet, so keys collide and share prefixes; it mixes 1- to 4-byte UTF-8 and NUL.
keys = st.text(alphabet="ab/é\x00\uff5e🎉", min_size=1, max_size=4).filter(lambda key: key not in (".", ".."))
values = st.binary(max_size=64)
metadata = (
    st.none() | st.integers() | st.text(max_size=8) | st.dictionaries(st.text(max_size=3), st.booleans(), max_size=2)
)
# TTLs and clock steps share values, so keys often sit exactly on their expiration second.
ttls = st.none() | st.sampled_from([60, 61, 120, 400])


class KVModel(RuleBasedStateMachine):
    """The model is a dict of key → (value, expiration, metadata), with expiry judged like Cloudflare's."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.directory = tempfile.mkdtemp(prefix="kv-model-")
        self.clock = ManualClock(START)
        self.store = SqliteStore(self.directory)
        # A second store on the same directory writes through other connections, as another process
        # would: what it writes must be read at once through the first (its caches included).
        self.elsewhere = SqliteStore(self.directory)
        self.kv, self.kv_elsewhere = self.run(self._open())
        self.model: dict[str, tuple[bytes, int | None, Any]] = {}

    async def _open(self) -> tuple[KVNamespace, KVNamespace]:
        info = await self.store.create_namespace("model")
        here = KVNamespace(await self.store.namespace(info.id), self.clock)
        return here, KVNamespace(await self.elsewhere.namespace(info.id), self.clock)

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.run(self.elsewhere.close())
        self.loop.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def gettable(self, key: str) -> tuple[bytes, int | None, Any] | None:
        entry = self.model.get(key)
        if entry is None or (entry[1] is not None and entry[1] <= self.clock.now()):
            return None
        return entry

    def listable(self) -> list[str]:
        now = self.clock.now()
        live = [key for key, entry in self.model.items() if entry[1] is None or entry[1] >= now]
        return sorted(live, key=lambda key: key.encode())

    @rule(key=keys, value=values, ttl=ttls, meta=metadata)
    def put(self, key: str, value: bytes, ttl: int | None, meta: Any) -> None:
        self.run(self.kv.put(key, value, expiration_ttl=ttl, metadata=meta))
        expiration = None if ttl is None else int(self.clock.now()) + ttl
        self.model[key] = (value, expiration, meta)

    @rule(key=keys, value=values, meta=metadata)
    def put_elsewhere(self, key: str, value: bytes, meta: Any) -> None:
        self.run(self.kv_elsewhere.put(key, value, metadata=meta))
        self.model[key] = (value, None, meta)

    @rule(key=keys)
    def delete_elsewhere(self, key: str) -> None:
        self.run(self.kv_elsewhere.delete(key))
        self.model.pop(key, None)

    @rule(key=keys)
    def get(self, key: str) -> None:
        entry = self.gettable(key)
        got = self.run(self.kv.get_with_metadata(key, "bytes"))
        if entry is None:
            assert (got.value, got.metadata) == (None, None)
        else:
            assert (got.value, got.metadata) == (entry[0], entry[2])

    @rule(chosen=st.lists(keys, min_size=1, max_size=5))
    def get_bulk(self, chosen: list[str]) -> None:
        got = self.run(self.kv.get(chosen))
        expected = {}
        for key in chosen:
            entry = self.gettable(key)
            expected[key] = None if entry is None else entry[0].decode("utf-8", "replace")
        assert got == expected

    @rule(key=keys)
    def delete(self, key: str) -> None:
        self.run(self.kv.delete(key))
        self.model.pop(key, None)

    @rule(prefix=st.none() | st.text(alphabet="ab/é", max_size=2), limit=st.integers(min_value=1, max_value=4))
    def list_all_pages(self, prefix: str | None, limit: int) -> None:
        names: list[str] = []
        cursor = None
        for _ in range(100):
            page = self.run(self.kv.list(prefix=prefix, limit=limit, cursor=cursor))
            assert len(page.keys) <= limit
            for listed in page.keys:
                entry = self.model[listed.name]
                assert listed.expiration == entry[1]
                assert listed.get("metadata") == entry[2]
            names += [listed.name for listed in page.keys]
            if page.list_complete:
                assert "cursor" not in page
                break
            cursor = page.cursor
        expected = [key for key in self.listable() if prefix is None or key.startswith(prefix)]
        assert names == expected

    @rule(seconds=st.sampled_from([0, 1, 30, 59, 60, 61, 120, 400]))
    def advance(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule()
    def sweep(self) -> None:
        self.run(self.store.purge_expired(self.clock.now()))
        now = self.clock.now()
        self.model = {key: entry for key, entry in self.model.items() if entry[1] is None or entry[1] >= now}

    @invariant()
    def nothing_expired_is_gettable(self) -> None:
        for key, entry in self.model.items():
            if entry[1] is not None and entry[1] <= self.clock.now():
                assert self.gettable(key) is None


KVModel.TestCase.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)
test_kv_matches_the_model = KVModel.TestCase
