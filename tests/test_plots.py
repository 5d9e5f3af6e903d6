"""Charts: Russian labels, the n on the figure, same data gives the same bytes."""
import io as _io
import re

import pandas as pd
import pytest

from cxmining import plots

CYRILLIC = re.compile("[а-яё]", re.I)


@pytest.fixture()
def table():
    return pd.DataFrame({
        "group": ["МФЦ", "МФЦ", "Транспорт"], "pain_id": ["P0001", "P0002", "P0001"],
        "label": ["очередь, запись", "справки", "очередь, запись"], "prevalence": [0.3, 0.1, 0.2],
        "respondents": [30, 10, 8], "n_group": [100, 100, 40], "rating_impact": [1.2, None, 0.4],
        "priority": [0.8, 0.3, 0.5], "priority_class": ["высокий", "низкий", "средний"]})


def _png(fig):
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def test_heatmap_priority_matrix_and_trend(table):
    history = pd.DataFrame({"period": ["2026Q2", "2026Q3", "2026Q3", "2026Q3"], "group": ["МФЦ", "МФЦ", "МФЦ", "Транспорт"],
                            "pain_id": ["P0001", "P0001", "P0002", "P0001"], "respondents": [10, 30, 10, 8],
                            "n_group": [90, 100, 100, 40]})
    for make in (lambda: plots.prevalence_heatmap(table), lambda: plots.priority_matrix(table),
                 lambda: plots.trend_chart(history, table)):
        fig = make()
        ax = fig.axes[0]
        axis_text = ax.get_xlabel() + ax.get_ylabel() + "".join(t.get_text() for t in ax.get_yticklabels())
        assert CYRILLIC.search(ax.get_title()) and CYRILLIC.search(axis_text)
        assert _png(fig) == _png(make())
    heat = plots.prevalence_heatmap(table).axes[0]
    assert [t.get_text() for t in heat.get_xticklabels()] == ["МФЦ\n(n=100)", "Транспорт\n(n=40)"]
    trend = plots.trend_chart(history, table).axes[0]
    assert {"10/90", "30/100"} <= {t.get_text() for t in trend.texts}
