"""``@pytest.mark.workerhost_fidelity``: a user's test pins production-fidelity modes, and settles them."""

from __future__ import annotations

import pytest

from runtime.config import fidelity as config_fidelity

from .test_testing import INPROCESS, KV_YAML, PRELOADED, SITE, STRICT_INI

PRELOADED_TOO = (*PRELOADED, config_fidelity)  # see test_testing.PRELOADED

USER_TESTS = """
import pytest

from bindings import KVError

pytestmark = pytest.mark.workerhost_fidelity(rate_limit=True)


def test_a_second_write_to_a_key_within_a_second_is_refused(workerhost):
    assert workerhost.client.put("/a", content=b"1").status_code == 201
    with pytest.raises(KVError, match="^KV PUT failed: 429 Too Many Requests$"):  # the handler's own exception
        workerhost.client.put("/a", content=b"2")
    workerhost.advance(1)
    assert workerhost.client.put("/a", content=b"2").status_code == 201


def test_reset_forgets_the_write_windows(workerhost):
    workerhost.kv("PAGES").put("a", "1")
    workerhost.reset()
    workerhost.kv("PAGES").put("a", "2")


@pytest.mark.workerhost_fidelity(consistency="eventual", writes="another_location", rate_limit=False)
def test_the_closest_marker_wins_and_settle_catches_up(workerhost):
    assert workerhost.client.get("/k").status_code == 404  # the miss is cached at the location
    workerhost.kv("PAGES").put("k", "v")
    workerhost.kv("PAGES").put("k", "v")  # no rate limit in this test
    assert workerhost.client.get("/k").status_code == 404
    workerhost.settle()
    assert workerhost.client.get("/k").text == "v"


@pytest.mark.workerhost_fidelity(limits="strict", api_rate_limit=True)
def test_the_limits_and_the_rest_rate_limit_are_on(workerhost):
    assert workerhost.config.fidelity.limits == "strict"
    assert workerhost.host.api_rate_limiter.enabled
"""

UNMARKED = """
def test_without_the_marker_kv_yaml_decides(workerhost):
    for _ in range(3):
        assert workerhost.client.put("/a", content=b"x").status_code == 201
"""

ASYNC_TESTS = """
import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.workerhost_fidelity(consistency="eventual", writes="another_location")
async def test_settle_is_awaited(workerhost_async):
    await workerhost_async.kv("PAGES").put("k", "v")
    assert (await workerhost_async.client.get("/k")).status_code == 404
    await workerhost_async.settle()
    assert (await workerhost_async.client.get("/k")).text == "v"
"""

BAD_MARKERS = """
import pytest


@pytest.mark.workerhost_fidelity(consistancy="eventual")
def test_a_typo(workerhost):
    pass


@pytest.mark.workerhost_fidelity("strict")
def test_a_positional_mode(workerhost):
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", kv=KV_YAML)
    pytester.makepyfile(site=SITE)
    pytester.makeini(STRICT_INI + "addopts = --strict-markers\n")  # the marker is registered
    return pytester


def test_a_marker_pins_modes_for_a_test_and_settle_catches_up(project: pytest.Pytester) -> None:
    project.makepyfile(test_modes=USER_TESTS, test_unmarked=UNMARKED)
    project.runpytest(*INPROCESS).assert_outcomes(passed=5)


def test_async_tests_settle_too(project: pytest.Pytester) -> None:
    project.makepyfile(test_async=ASYNC_TESTS)
    project.runpytest(*INPROCESS).assert_outcomes(passed=1)


def test_a_bad_marker_fails_the_tests_setup_with_one_line(project: pytest.Pytester) -> None:
    project.makepyfile(test_bad=BAD_MARKERS)
    result = project.runpytest(*INPROCESS)
    result.assert_outcomes(errors=2)
    marker = "*workerhost: @pytest.mark.workerhost_fidelity: "
    result.stdout.fnmatch_lines(
        [
            f"{marker}consistancy is not a known mode; expected one of: rate_limit, consistency, writes, "
            'cache_ttl, negative_ttl, list_lag, limits, api_rate_limit (did you mean "consistency"?)',
            f"{marker}modes are keyword arguments, e.g. rate_limit=True; got ('strict',)",
        ]
    )
