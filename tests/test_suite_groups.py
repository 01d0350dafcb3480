"""tests/conftest.py keeps the tests that share a module-scoped fixture on one xdist worker (the
fixture is then built once), and leaves the others free to go to any worker."""

import pytest


@pytest.fixture(scope="module")
def shared() -> object:
    return object()


def test_a_test_using_a_module_fixture_is_grouped_with_its_module(request, shared):
    mark = request.node.get_closest_marker("xdist_group")
    assert mark is not None and mark.args == ("module:tests/test_suite_groups.py",)


def test_a_test_without_one_goes_to_any_worker(request):
    assert request.node.get_closest_marker("xdist_group") is None


@pytest.mark.xdist_group("lsl")
def test_an_explicit_group_wins(request, shared):
    assert [m.args for m in request.node.iter_markers("xdist_group")] == [("lsl",)]
