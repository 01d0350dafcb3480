"""Reference values: known cases against the published numbers, demographics, clinic files."""

import math

import pytest

from recordings.conditions import condition_for
from recordings.references import (
    ReferenceFileError,
    bundled_references,
    load_references,
    reference_set,
)
from recordings.subjects import (
    Demographics,
    SubjectError,
    Visit,
    load_subject,
    record_visit,
    set_demographics,
)

MAN = Demographics(sex="male")


def test_a_150_s_biering_sorensen_hold_is_flagged_below_176_s_with_its_source():
    (standing,) = bundled_references().standings("biering-sorensen", "held", 150.0, MAN)
    assert standing.outside is True
    assert "below 176 s predicts low-back pain within a year" in standing.text
    assert standing.text.startswith("150 s")
    assert "Biering-Sørensen 1984" in standing.against and "men" in standing.against
    (good,) = bundled_references().standings("biering-sorensen", "held", 205.0, MAN)
    assert good.outside is False and "above 198 s predicts no low-back pain" in good.text


def test_the_mens_cut_off_is_not_applied_when_the_sex_is_not_given():
    """Walkthrough s8 #5: Biering-Sørensen 1984's cut-offs (men) flagged a subject whose sex was
    not given. Unknown: named and not applied; a woman: none applies (no published cut-off)."""
    (unknown,) = bundled_references().standings("biering-sorensen", "held", 150.0)
    assert unknown.outside is None
    assert (
        unknown.text
        == "150 s: no cut-off applied: the 176 s / 198 s cut-off is for men and the sex is not given"
    )
    assert bundled_references().standings("biering-sorensen", "held", 150.0, Demographics(sex="female")) == []


def test_a_hold_the_task_ended_is_a_lower_bound_never_flagged_below_the_cut_off():
    """A censored hold (the task ended before the posture was lost) of 127 s says nothing about
    the 176 s cut-off (the hold could have gone on); one of ≥ 205 s is still above 198 s."""
    refs = bundled_references()
    (cut,) = refs.standings("biering-sorensen", "held", 127.0, MAN, lower_bound=True)
    assert cut.outside is None and "predicts" not in cut.text
    assert cut.text == (
        "≥ 127 s (task ended before the posture was lost): not judged against the 176 s cut-off "
        "(men, Danish general population, 1-year follow-up)"
    )
    (between,) = refs.standings("biering-sorensen", "held", 180.0, MAN, lower_bound=True)
    assert between.outside is False and "not below 176 s" in between.text and "not above" not in between.text
    (long,) = refs.standings("biering-sorensen", "held", 205.0, MAN, lower_bound=True)
    assert long.outside is False and "above 198 s predicts no low-back pain" in long.text
    # A normal band is not judged with a lower bound (a z-score of it would mean nothing).
    (plank,) = refs.standings("plank", "held", 20.0, Demographics(sex="female"), lower_bound=True)
    assert plank.outside is None and math.isnan(plank.z) and "lower bound" in plank.text


def test_z_score_and_percentile_where_an_sd_is_known():
    # Strand 2014 college women: 83 ± 63 s; 20 s is z = −1.0, the 16th percentile.
    (standing,) = bundled_references().standings("plank", "held", 20.0, Demographics(sex="female"))
    assert standing.z == pytest.approx(-1.0)
    assert standing.percentile == pytest.approx(15.87, abs=0.01)
    assert "16th percentile" in standing.text and "college women" in standing.text
    assert standing.outside is False
    # Unknown sex: both populations are shown, each named.
    both = bundled_references().standings("plank", "held", 20.0)
    assert {s.reference.population for s in both} == {"college men (20 y)", "college women (20 y)"}
    # A bend session's mean is compared with the per-bend population values (Laird 2019).
    laird = bundled_references().standings("forward-bend", "mean_trunk_flexion", 60.0)
    no_lbp = next(s for s in laird if s.reference.population == "adults without low-back pain")
    assert no_lbp.z == pytest.approx((60 - 111) / 16) and no_lbp.outside


def test_age_band_cut_offs_apply_only_to_that_band_and_replace_the_general_population():
    refs = bundled_references()
    timed = "five-times-sit-to-stand"
    (general,) = refs.standings(timed, "five_rise_time", 13.0)  # age unknown: Klukowska only
    assert general.reference.population == "healthy adults (39 ± 14 y)"
    # Walkthrough s10 #2: a 60-69 patient was also judged against the 39 ± 14 y population.
    (band,) = refs.standings(timed, "five_rise_time", 13.0, Demographics(age_band="70-79"))
    assert "slower than average for 70–79 y" in band.text and band.outside
    (no_band,) = refs.standings(timed, "five_rise_time", 13.0, Demographics(age_band="40-49"))
    assert no_band.reference is general.reference


def test_a_population_younger_or_older_than_the_patient_is_said_beside_the_judgement():
    refs = bundled_references()
    middle_aged = Demographics(age_band="40-49", sex="male")
    (plank,) = refs.standings("plank", "held", 60.0, middle_aged)  # Strand 2014: college men
    note = "reference population younger than the patient (about 20 y; patient 40–49 y)"
    assert plank.text.endswith(f"of college men (20 y) (124 ± 72 s); {note}")
    assert plank.short.endswith(f"college men (20 y); {note}")
    (young,) = refs.standings("plank", "held", 60.0, Demographics(age_band="18-29", sex="male"))
    assert "reference population" not in young.text  # the age fits
    (unknown,) = refs.standings("plank", "held", 60.0, Demographics(sex="male"))
    assert "reference population" not in unknown.text  # the patient's age is not given
    # A range (18–55 y) fits a 40-49 patient, not a 60-69 one; a mean ± SD (39 ± 14 y) is a range.
    (side,) = refs.standings("side-plank-left", "held", 60.0, middle_aged)
    assert "reference population" not in side.text
    (side,) = refs.standings("side-plank-left", "held", 60.0, Demographics(age_band="60-69"))
    assert side.text.endswith("reference population younger than the patient (18–55 y; patient 60–69 y)")
    (general,) = refs.standings("five-times-sit-to-stand", "five_rise_time", 9.0, Demographics("90+"))
    assert general.text.endswith("younger than the patient (about 39 ± 14 y; patient 90+ y)")
    (student,) = refs.standings("five-times-sit-to-stand", "five_rise_time", 9.0, Demographics("18-29"))
    assert "reference population" not in student.text  # 25–53 y overlaps 18–29 y


def test_the_self_paced_sit_to_stand_gets_no_norm_of_the_timed_test():
    """Walkthrough s10 #2: the self-paced protocol (rise at one's own pace until the task ends)
    was judged against the five-times test's norms (as fast as possible) and every patient was
    flagged. Its five-rise time has no norm, and the report says where the norms are."""
    refs = bundled_references()
    assert refs.standings("sit-to-stand", "five_rise_time", 32.9, Demographics(age_band="60-69")) == []
    assert refs.mdc("sit-to-stand", "five_rise_time") is None
    assert refs.missing_text("sit-to-stand", "five_rise_time") == (
        "no published reference for this drill (published for: "
        "Five-times sit-to-stand test (as fast as possible))"
    )
    assert refs.missing_text("sit-to-stand", "mean_flexion_duration") == "no published reference"
    assert refs.mdc("five-times-sit-to-stand", "five_rise_time").mdc95 == 2.5


def test_dual_task_results_get_no_single_task_references():
    dual = condition_for("plank", "dual", "stroop")
    assert bundled_references().standings("plank", "held", 20.0, condition=dual) == []


def test_every_bundled_value_names_population_and_source():
    refs = bundled_references()
    assert refs.versions == ("stabmon bundled reference values 2026.11-2",)
    for r in refs.references:
        assert r.population and r.source, r
        assert r.kind != "mdc" or math.isfinite(r.mdc95)


def test_a_clinic_file_comes_first(tmp_path):
    path = tmp_path / "clinic.toml"
    path.write_text(
        'version = "1"\ntitle = "Clinic X"\n[[reference]]\ndrill = "biering-sorensen"\nmeasure = "held"\n'
        'kind = "mdc"\npopulation = "our patients"\nmdc95 = 20.0\nsource = "Clinic X audit 2025"\n'
    )
    refs = reference_set([path])
    assert refs.mdc("biering-sorensen", "held").source == "Clinic X audit 2025"
    assert refs.versions[0] == "Clinic X 1"


def test_a_bad_reference_file_names_the_file_and_entry(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'version = "1"\n[[reference]]\ndrill = "plank"\nmeasure = "held"\nkind = "normal"\n'
        'population = "x"\nsource = "y"\nmean = 10\n'
    )
    with pytest.raises(ReferenceFileError, match=r"bad.toml reference 1: a normal reference needs sd"):
        load_references(path)
    path.write_text(
        'version = "1"\n[[reference]]\ndrill = "plank"\nmeasure = "made_up"\nkind = "mean"\n'
        'population = "x"\nsource = "y"\nmean = 10\n'
    )
    with pytest.raises(ReferenceFileError, match="no measure 'made_up'"):
        load_references(path)
    path.write_text(
        'version = "1"\n[[reference]]\ndrill = "plank"\nmeasure = "held"\nkind = "mean"\n'
        'population = "x"\nsource = "y"\nmean = 10\nage_low = 50\n'
    )
    with pytest.raises(ReferenceFileError, match="reference 1: age_low and age_high go together"):
        load_references(path)


def test_demographics_and_visits_are_stored_with_the_subject(tmp_path):
    from datetime import date

    set_demographics(tmp_path, "P09", Demographics("40-49", "female"))
    record_visit(tmp_path, "P09", Visit(date(2026, 11, 2), 6.0, "ODI", 38.0))
    record_visit(tmp_path, "P09", Visit(date(2026, 11, 30), 3.0, "ODI", 24.0))
    subject = load_subject(tmp_path, "P09")
    assert subject.demographics == Demographics("40-49", "female")
    assert [v.score for v in subject.visits] == [38.0, 24.0]
    assert subject.visits[0].describe() == "pain now 6/10, Oswestry Disability Index 38 %"
    assert (tmp_path / "sub-P09" / "subject.json").exists()
    with pytest.raises(SubjectError, match="pain now must be 0–10"):
        Visit(date(2026, 11, 2), 11.0)
    with pytest.raises(SubjectError, match="RMDQ total must be 0–24"):
        Visit(date(2026, 11, 2), 2.0, "RMDQ", 30.0)
    with pytest.raises(SubjectError, match="age band"):
        Demographics("40-45")


def test_a_z_score_reads_with_one_minus_sign_and_never_minus_zero():
    """The results pane showed "z -0.0" for a value just under the mean."""
    refs = bundled_references()
    women = Demographics(sex="female")
    (at_mean,) = refs.standings("plank", "held", 82.9, women)  # college women 83 s: z ≈ −0.004
    assert at_mean.short.startswith("z 0.0 (50th percentile)"), at_mean.short
    (below,) = refs.standings("plank", "held", 20.0, women)
    assert "z = −" in below.text and "-" not in below.short.split(" (")[0], below.text
