from cxmining.schema import arrow_schema, data_contract_markdown, fields
from tests.conftest import ROOT


def test_data_contract_page_is_in_sync(config):
    page = (ROOT / "docs" / "data_contract.md").read_text(encoding="utf-8")
    assert page == data_contract_markdown(config), "regenerate: python -m cxmining.schema > docs/data_contract.md"


def test_schemas_name_the_contract_fields(config):
    ext = [f.name for f in fields("external", config)]
    assert ext[:12] == ["response_id", "received_at", "period", "channel", "process", "service", "touchpoint",
                        "client_type", "is_electronic", "rating", "text", "source"]
    internal = [f.name for f in fields("internal", config)]
    assert internal[:5] == ["respondent_id", "period", "department", "position_group", "tenure_group"]
    assert set(config.survey.dimension_keys) <= set(internal)
    assert arrow_schema("internal", config, ("open_extra",)).names[-1] == "open_extra"
