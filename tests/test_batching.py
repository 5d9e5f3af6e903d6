import pytest

from cxmining.batching import budget_batches


@pytest.mark.parametrize("sizes, max_items, max_total, expected", [
    ([1, 1, 1, 1, 1], 2, 100, [[1, 1], [1, 1], [1]]),              # count bound
    ([1, 2, 3, 10, 50], 10, 20, [[1, 2, 3], [10], [50]]),           # padded size bound: longest x count
    ([100], 10, 20, [[100]]),                                       # an item over budget goes alone
    ([], 4, 10, []),
])
def test_budget_batches(sizes, max_items, max_total, expected):
    batches = list(budget_batches(sizes, lambda n: n, max_items=max_items, max_total=max_total))
    assert batches == expected
    assert [x for b in batches for x in b] == sizes  # nothing lost, order kept
