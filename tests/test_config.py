import dataclasses

import pytest

from cxmining.config import ConfigError, load_config, merge, normalize_label


@pytest.mark.parametrize("raw, expected", [
    ("  Текст  обращения: ", "текст обращения"),
    ("Дата\u00a0обращения", "дата обращения"),
    ("«Полностью удовлетворён»", "полностью удовлетворен"),
    (None, ""),
    (float("nan"), ""),
])
def test_normalize_label(raw, expected):
    assert normalize_label(raw) == expected


def test_default_config_has_programme_vocabularies(config):
    assert len(config.client_types.names) == 8
    assert config.client_types.canonical("ИП") == "индивидуальный предприниматель"
    assert config.client_types.canonical("физическое лицо") == "гражданин РФ"
    assert config.channels.canonical("Госуслуги") == "портал"
    assert len(config.survey.dimensions) == 10 and config.survey.dimension_keys[-1] == "overall"
    assert config.survey.min_group == 5
    assert config.survey.likert_scale["полностью удовлетворен"] == 5


def test_config_is_frozen(config):
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.survey = None
    with pytest.raises(TypeError):
        config.survey.likert_scale["x"] = 1


def test_partial_user_file_merges_onto_defaults(tmp_path):
    user = tmp_path / "my.yaml"
    user.write_text("survey:\n  min_group: 10\n", encoding="utf-8")
    cfg = load_config(user)
    assert cfg.survey.min_group == 10
    assert len(cfg.survey.dimensions) == 10  # untouched keys keep their defaults
    assert cfg.source == str(user)
    assert cfg.fingerprint != load_config().fingerprint
    assert "min_group: 10" in cfg.to_yaml()


def test_dumped_config_round_trips(tmp_path, config):
    path = tmp_path / "copy.yaml"
    path.write_text(config.to_yaml(), encoding="utf-8")
    assert load_config(path).fingerprint == config.fingerprint


def test_unknown_section_is_named(tmp_path):
    user = tmp_path / "typo.yaml"
    user.write_text("surway:\n  min_group: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"typo.yaml: unknown section\(s\) \['surway'\]"):
        load_config(user)


def test_invalid_values_are_rejected(tmp_path):
    user = tmp_path / "bad.yaml"
    user.write_text("survey:\n  likert:\n    scale: {'отлично': 7}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="1..5"):
        load_config(user)


def test_phrase_in_a_lemma_lexicon_is_rejected(tmp_path):
    # Lexicon entries are matched token by token: «хорошо бы» would silently never match.
    user = tmp_path / "phrase.yaml"
    user.write_text("pains:\n  need:\n    lemmas: {'хорошо бы': 1, 'нужно': 1}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"phrase.yaml.*pains.need.lemmas: \['хорошо бы'\] are phrases"):
        load_config(user)


def test_mapping_file_flat_and_per_kind(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("text: Комментарий жителя\ninternal:\n  department: [Отдел/сектор]\n", encoding="utf-8")
    cfg = load_config(mapping=mapping)
    ext = {c.name: c for c in cfg.columns["external"]}
    assert ext["text"].aliases[0] == "Комментарий жителя"
    assert "текст обращения" in ext["text"].aliases  # defaults kept after the user's headers
    intl = {c.name: c for c in cfg.columns["internal"]}
    assert intl["department"].aliases[0] == "Отдел/сектор"


def test_mapping_file_unknown_column(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("external:\n  txet: Комментарий\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown external column 'txet'"):
        load_config(mapping=mapping)


def test_merge_replaces_lists_and_merges_dicts():
    assert merge({"a": {"b": 1, "c": [1, 2]}}, {"a": {"c": [3]}}) == {"a": {"b": 1, "c": [3]}}


def test_pain_maps_take_their_own_topic_cap(tmp_path):
    cfg = load_config()
    assert cfg.map_topic_settings()["max_topics"] == cfg.painmap.max_topics == 200
    assert cfg.map_topic_settings()["min_cluster_size"] == cfg.painmap.min_cluster_size == 0.003
    assert cfg.topics.model_settings()["max_topics"] == 60  # a topic model of one corpus (`topics fit`)
    assert "min_cluster_size" not in cfg.topics.model_settings()  # there: the corpus-size rule
    (tmp_path / "c.yaml").write_text("painmap:\n  max_topics: 40\n  min_cluster_size: 12\n  evidence_weight: 0\n",
                                     encoding="utf-8")
    user = load_config(tmp_path / "c.yaml")
    assert user.map_topic_settings() == {**user.topics.model_settings(), "max_topics": 40, "min_cluster_size": 12}
    assert user.painmap.evidence_weight == 0


@pytest.mark.parametrize("value", [0, -3, 1.5, "many", 2.5])
def test_map_topic_size_is_a_count_or_a_share(tmp_path, value):
    (tmp_path / "c.yaml").write_text(f"painmap:\n  min_cluster_size: {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="min_cluster_size"):
        load_config(tmp_path / "c.yaml")


def test_guided_topics_are_off_by_default_and_switch_on_in_a_user_file(tmp_path):
    assert load_config().topics.model_settings()["guided"] is False
    (tmp_path / "c.yaml").write_text("topics:\n  guided: true\n", encoding="utf-8")
    user = load_config(tmp_path / "c.yaml")
    assert user.topics.model_settings()["guided"] is True and user.map_topic_settings()["guided"] is True


@pytest.mark.parametrize("value", ["yes please", 1, "[true]"])
def test_guided_is_true_or_false(tmp_path, value):
    (tmp_path / "c.yaml").write_text(f"topics:\n  guided: {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="topics.guided"):
        load_config(tmp_path / "c.yaml")


def test_models_pickled_before_the_sections_module_still_find_their_classes():
    import cxmining.config as config
    import cxmining.sections as sections

    for name in ("TextConfig", "MarkerSet", "PainsConfig", "TopicsConfig", "IdentityConfig", "PainMapConfig"):
        assert getattr(config, name) is getattr(sections, name)
