"""Settings: profiles by name, overrides, and the hash that provenance records."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sciml.errors import ConfigError
from sciml.probconserv.experiment import ProbConservConfig


def test_a_profile_named_in_a_mapping_is_the_same_as_for_profile():
    by_name = ProbConservConfig.model_validate({"profile": "tiny", "seed": 4})
    assert by_name == ProbConservConfig.for_profile("tiny", seed=4)
    assert by_name.config_hash() == ProbConservConfig.for_profile("tiny", seed=4).config_hash()
    assert "profile" not in by_name.model_dump()  # never stored: the fields are the truth
    assert ProbConservConfig(profile="paper").width == 128


def test_unknown_profiles_and_keys_are_refused():
    with pytest.raises(ValidationError, match="unknown profile 'huge'"):
        ProbConservConfig.model_validate({"profile": "huge"})
    with pytest.raises(ConfigError, match="unknown profile 'huge'"):
        ProbConservConfig.for_profile("huge")
    with pytest.raises(ValidationError, match="widht"):
        ProbConservConfig.model_validate({"profile": "tiny", "widht": 3})
