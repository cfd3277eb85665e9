"""Where a sweep's results go as runs finish: a CSV file (rows appended) or a Parquet file (rewritten;
needs pyarrow), with the per-epoch curves beside it as NAME.curves.EXT. Reading it back gives the runs
that finished, which a resumed sweep skips."""

from pathlib import Path

import pandas as pd

SUFFIXES = (".csv", ".parquet")
NUMERIC = ("seed", "train_loss", "test_loss", "test_accuracy", "epochs", "seconds", "epoch", "loss", "accuracy",
           "val_loss", "val_accuracy", "learning_rate")


class Store:
    def __init__(self, path):
        self.path = Path(path)
        if self.path.suffix not in SUFFIXES:
            raise ValueError(f"results go to a .csv or .parquet file, not {self.path.name!r}")
        if self.path.suffix == ".parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise ValueError("Parquet files need pyarrow (pip install pyarrow); or write a .csv") from None
        if not self.path.parent.is_dir():
            raise ValueError(f"the folder {str(self.path.parent)!r} does not exist")
        self.curves_path = self.path.with_suffix("").with_name(self.path.stem + ".curves" + self.path.suffix)
        self._rows = self._read(self.path)
        self._curves = self._read(self.curves_path)

    def _read(self, path):
        if not path.exists() or path.stat().st_size == 0:
            return pd.DataFrame()
        try:
            # settings stay the strings a link writes (as in a running sweep's rows); results are numbers
            table = pd.read_csv(path, dtype=str, keep_default_na=False) if path.suffix == ".csv" \
                else pd.read_parquet(path)
        except Exception as err:
            raise ValueError(f"{path.name} exists but is not a sweep's results file ({err})") from None
        for column in NUMERIC:
            if column in table:
                table[column] = pd.to_numeric(table[column], errors="coerce")
        return table

    def finished(self):
        """Ids of the runs already in the file (errors included: rerun them with a new file)."""
        if not len(self._rows):
            return set()
        if "run" not in self._rows:
            raise ValueError(f"{self.path.name} exists but has no 'run' column: not a sweep's results file")
        return set(self._rows["run"].astype(str))

    def rows(self):
        return self._rows

    def curves(self):
        return self._curves

    def add(self, row, curves):
        """One finished run: appended at once, so a killed sweep keeps it."""
        new_row, new_curves = pd.DataFrame([row]), pd.DataFrame(curves)
        if self.path.suffix == ".csv":
            # a run's row goes last, after its curves: a row in the file means its curves are there too
            if len(new_curves):
                new_curves.to_csv(self.curves_path, mode="a", header=not self.curves_path.exists(), index=False)
            columns = list(self._rows.columns) if len(self._rows) else list(new_row.columns)
            new_row.reindex(columns=columns).to_csv(self.path, mode="a", header=not self.path.exists(),
                                                    index=False)
            self._rows = pd.concat([self._rows, new_row], ignore_index=True)
        else:
            self._curves = pd.concat([self._curves, new_curves], ignore_index=True)
            self._curves.to_parquet(self.curves_path, index=False)
            self._rows = pd.concat([self._rows, new_row], ignore_index=True)
            self._rows.to_parquet(self.path, index=False)
