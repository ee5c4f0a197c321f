"""Date-time columns in the common layouts: ISO 8601, MM/DD/YYYY HH:MM, DD.MM.YYYY, epoch seconds."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from dagmm.exceptions import DataError
from dagmm.tabular import TabularPreprocessor, TabularWarning
from dagmm.tabular._columns import DATE_FORMATS, coerce_epoch_seconds, date_format_of

# 2024-01-15 10:00 UTC and 2024-03-04 13:30:15 UTC.
JAN15_10 = pd.Timestamp("2024-01-15 10:00", tz="UTC").timestamp()
MAR04 = pd.Timestamp("2024-03-04 13:30:15", tz="UTC").timestamp()


@pytest.mark.parametrize(
    ("values", "layout"),
    [
        (["2024-01-15 10:00", "2024-03-04T13:30:15"], "iso"),
        (["01/15/2024 10:00", "3/4/2024 13:30:15"], "month-first"),
        (["01/15/2024 10:00 AM", "03/04/2024 1:30:15 PM"], "month-first"),
        (["15.01.2024 10:00", "04.03.2024 13:30:15"], "day-first"),
        (["15/01/2024 10:00", "04/03/2024 13:30:15"], "day-first"),  # 15 cannot be a month
        (["15-01-2024 10:00", "04-03-2024 13:30:15"], "day-first"),
    ],
)
def test_layouts_are_detected_and_read_to_the_same_seconds(values, layout):
    series = pd.Series(values, dtype=object)
    assert date_format_of(series) == layout
    seconds, bad = coerce_epoch_seconds(series, layout)
    assert not bad.any()
    np.testing.assert_allclose(seconds, [JAN15_10, MAR04])


def test_epoch_seconds_only_for_columns_named_as_dates():
    numbers = pd.Series([JAN15_10, MAR04])
    assert date_format_of(numbers) is None  # a column of numbers stays numbers
    assert date_format_of(numbers, numbers=True) == "epoch"
    assert date_format_of(pd.Series(["1705312800", "1709559015"]), numbers=True) == "epoch"
    seconds, bad = coerce_epoch_seconds(pd.Series(["1705312800", "x"]), "epoch")
    assert seconds[0] == 1705312800 and bad.tolist() == [False, True]


@pytest.mark.parametrize(
    "value", ["13/45/2024", "02/30/2024", "01/15/2024 25:00", "01/15/2024 13:00 PM", "soon"]
)
def test_impossible_dates_do_not_parse(value):
    _, bad = coerce_epoch_seconds(pd.Series(["01/15/2024", value]), "month-first")
    assert bad.tolist() == [False, True]


def test_blank_and_missing_are_missing_not_bad():
    seconds, bad = coerce_epoch_seconds(pd.Series(["01/15/2024", "", None]), "month-first")
    assert not bad.any() and np.isnan(seconds[1:]).all()


def test_month_first_text_is_a_date_column_not_an_identifier():
    # The newcomer's CSV: unique timestamps used to be dropped as "identifiers or free text".
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(200) * 3607, unit="s")
    frame = pd.DataFrame(
        {"when": stamps.strftime("%m/%d/%Y %H:%M"), "amount": np.linspace(1, 2, 200)}
    )
    with pytest.warns(TabularWarning, match=r"'when' \(read as MM/DD/YYYY\)") as caught:
        pre = TabularPreprocessor().fit(frame)
    assert not any("identifiers" in str(w.message) for w in caught)
    assert pre.column_kinds_["when"] == "datetime"
    assert pre.feature_names_out_[:3] == ["when:epoch_s", "when:dayofweek", "when:hour"]


def test_named_columns_are_silent_and_read_in_their_layout():
    frame = pd.DataFrame(
        {
            "iso": ["2024-01-15 10:00", "2024-03-04 13:30:15"],
            "us": ["01/15/2024 10:00", "03/04/2024 13:30:15"],
            "eu": ["15.01.2024 10:00", "04.03.2024 13:30:15"],
            "epoch": [JAN15_10, MAR04],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pre = TabularPreprocessor(
            datetime_cols=["iso", "us", "eu", "epoch"], scale=None, datetime_features="epoch"
        ).fit(frame)
    np.testing.assert_allclose(pre.transform(frame), [[JAN15_10] * 4, [MAR04] * 4])


def test_a_value_that_fits_no_layout_is_a_clear_error():
    frame = pd.DataFrame({"when": ["01/15/2024 10:00", "13/45/2024 10:00", "soon"]})
    with pytest.raises(DataError) as error:
        TabularPreprocessor(datetime_cols=["when"]).fit(frame)
    message = str(error.value)
    assert "column 'when' is listed in datetime_cols" in message
    assert "e.g. '13/45/2024 10:00' in row 1 (2 values in all)" in message
    for layout in DATE_FORMATS.values():
        assert layout in message


def test_the_layout_is_kept_for_scoring_and_saved():
    # Every day is <= 12 at fit: month first. The same text must mean the same date later.
    fit_rows = pd.DataFrame({"d": ["01/02/2024", "03/04/2024", "05/06/2024"], "x": [1.0, 2, 3]})
    pre = TabularPreprocessor(datetime_cols=["d"], scale=None).fit(fit_rows)
    config, arrays = pre.to_state()
    assert [c.get("date_format") for c in config["columns"] if c["kind"] == "datetime"] == [
        "month-first"
    ]
    loaded = TabularPreprocessor.from_state(config, arrays)
    later = pd.DataFrame({"d": ["01/02/2024"], "x": [1.0]})
    expected = pd.Timestamp("2024-01-02", tz="UTC").timestamp()
    assert loaded.transform(later)[0, 0] == pytest.approx(expected)
    with pytest.raises(DataError, match=r"not date-times in its layout, MM/DD/YYYY"):
        loaded.transform(pd.DataFrame({"d": ["2024-01-02"], "x": [1.0]}))


def test_models_saved_before_date_formats_read_iso():
    pre = TabularPreprocessor(datetime_cols=["d"]).fit(pd.DataFrame({"d": ["2024-01-02", "2024-02-03"]}))
    config, arrays = pre.to_state()
    for column in config["columns"]:
        column.pop("date_format", None)
    loaded = TabularPreprocessor.from_state(config, arrays)
    np.testing.assert_allclose(loaded.transform(pd.DataFrame({"d": ["2024-01-02"]})),
                               pre.transform(pd.DataFrame({"d": ["2024-01-02"]})))


def test_fit_options_config_file_and_cli_take_datetime_cols(tmp_path, capsys):
    from dagmm.cli import main
    from dagmm.workflow import FitOptions, resolve_options

    config = tmp_path / "fit.toml"
    config.write_text('datetime_cols = ["when"]\n')
    assert resolve_options({}, config).datetime_cols == ("when",)
    assert FitOptions(datetime_cols=("when",)).preprocessor_params()["datetime_cols"] == ["when"]

    frame = pd.DataFrame(
        {"when": ["01/15/2024 10:00", "13/45/2024 10:00"] + ["02/01/2024 11:00"] * 6,
         "amount": np.arange(8.0)}
    )
    frame.to_csv(tmp_path / "rows.csv", index=False)
    code = main(["fit", str(tmp_path / "rows.csv"), "--out", str(tmp_path / "m"),
                 "--datetime-cols", "when", "--epochs", "1", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert "column 'when' is listed in --datetime-cols" in err and "'13/45/2024 10:00'" in err
