import json
import zipfile

import pandas as pd
import pytest

from territorial_geo import sources
from territorial_geo.errors import DataFormatError, DataMissingError, UnknownPlaceError

from .conftest import FIXTURES, ROOT


def test_manifest_file_matches_catalog():
    on_disk = json.loads((ROOT / "data" / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == sources.manifest()


def test_communes_and_epci_facts(data_dir):
    communes = sources.load_communes(data_dir)
    assert communes.crs.to_epsg() == 2154
    assert communes.loc["62041", "nom"] == "Arras"
    assert (communes.index.str.len() == 5).all()
    assert "2A004" in communes.index
    artois = communes[communes["epci_siren"] == "200069482"]
    assert len(artois) == 96
    assert 33_000 <= artois["population"].sum() <= 33_600
    epci = sources.load_epci(data_dir)
    assert len(epci.loc["200043321", "members"]) == 52


def test_find_epci_by_name_and_siren(data_dir):
    assert sources.find_epci("campagnes de l'artois", data_dir)["siren"] == "200069482"
    assert sources.find_epci("CC des Campagnes de l'Artois", data_dir)["siren"] == "200069482"
    assert sources.find_epci("Pays de Mormal", data_dir)["siren"] == "200043321"
    assert sources.find_epci("200043321", data_dir)["nom"] == "CC du Pays de Mormal"
    with pytest.raises(UnknownPlaceError, match="Closest: .*Artois"):
        sources.find_epci("campagnes de l'artoiss", data_dir)


def test_census_harmonized_reports_merged_codes(data_dir):
    h = sources.load_census(data_dir)
    assert h.remapped, "the RP2018 file (COG 2021) has communes merged since"
    assert all(new in h.table.index for new in h.remapped.values())
    assert "merged into COG 2026" in h.report()
    # counts of merged communes are summed, not lost
    raw = sources.read_census_rp2018(sources.dataset_path("census-rp2018", data_dir))
    assert h.table["P18_POP"].sum() == pytest.approx(
        raw["P18_POP"].sum() - raw.loc[h.dropped, "P18_POP"].sum())


def test_harmonize_sums_counts_and_weights_shares():
    df = pd.DataFrame({"n": [10.0, 30.0, 5.0, 1.0], "pct": [10.0, 50.0, 20.0, 0.0],
                       "pop": [100.0, 300.0, 50.0, 1.0]},
                      index=["01001", "01002", "01003", "99999"])
    h = sources.harmonize(df, current=["01001", "01003"], mapping={"01002": "01001"},
                          sum_cols=["n", "pop"], mean_cols=["pct"], weight_col="pop")
    assert h.table.loc["01001", "n"] == 40
    assert h.table.loc["01001", "pct"] == pytest.approx((10 * 100 + 50 * 300) / 400)
    assert h.remapped == {"01002": "01001"}
    assert h.dropped == ["99999"]


def test_quirky_csv_bom_semicolon_decimal_comma(tmp_path):
    p = tmp_path / "grid.csv"
    p.write_bytes("\ufeffCODGEO;DENS;VAL\r\n1001;6;12,5\r\n2A004;2;0,0\r\n".encode())
    raw = sources.read_csv(p, sep=";", engine="c")
    assert list(raw.columns) == ["CODGEO", "DENS", "VAL"]
    assert sources.normalize_codes(raw["CODGEO"]).tolist() == ["01001", "2A004"]
    assert sources.to_number(raw["VAL"], source="x").tolist() == [12.5, 0.0]


def test_census_wrong_shape_names_file_and_column(tmp_path):
    p = tmp_path / "base_cc_comparateur.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("base_cc_comparateur.CSV", "CODGEO;P18_POP\n62041;41000\n")
    with pytest.raises(DataFormatError, match=r"base_cc_comparateur.zip.*P18_RSECOCC"):
        sources.read_census_rp2018(p)
    bad = tmp_path / "corrupt.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataFormatError, match="corrupt.zip"):
        sources.read_census_rp2018(bad)


def test_non_numeric_value_is_reported():
    with pytest.raises(DataFormatError, match="f.csv:P18_POP"):
        sources.to_number(pd.Series(["12", "douze"]), source="f.csv:P18_POP")


def test_missing_dataset_says_which_fetch(tmp_path):
    with pytest.raises(DataMissingError, match="data fetch --dataset census-rp2018"):
        sources.load_census(tmp_path)


def test_fetch_copies_from_mirror_and_verifies(tmp_path, data_dir):
    res = sources.fetch(["sirene-bands"], data_dir=tmp_path / "d", mirror=data_dir)
    assert res[0].action == "copied" and res[0].path.is_file()
    again = sources.fetch(["sirene-bands"], data_dir=tmp_path / "d", mirror=data_dir)
    assert again[0].action == "present"
    fake = tmp_path / "mirror" / "sirene"
    fake.mkdir(parents=True)
    (fake / "tranches-effectifs.csv").write_text("code,libelle\nNN,x\n")
    with pytest.raises(DataFormatError, match="checksum"):
        sources.fetch(["sirene-bands"], data_dir=tmp_path / "e", mirror=tmp_path / "mirror")
    assert not (tmp_path / "e" / "sirene" / "tranches-effectifs.csv").exists()


def test_fetch_downloads_from_url(tmp_path, data_dir):
    src = sources.dataset_path("epci", data_dir)
    res = sources.fetch(["epci"], data_dir=tmp_path, mirror=tmp_path / "none",
                        urls={"epci": src.resolve().as_uri()})
    assert res[0].action == "downloaded"
    assert sources.sha256_of(res[0].path) == sources.CATALOG["epci"].sha256


def test_fetch_without_source_is_clear(tmp_path):
    with pytest.raises(DataMissingError, match=r"roads-hdf.*mirror only.*osm:nord-pas-de-calais"):
        sources.fetch(["roads-hdf"], data_dir=tmp_path, mirror=False)


def test_missing_dataset_message_wording(tmp_path):
    """Issue 13 defect 7: no 'not in the no mirror'; the message says no mirror was found."""
    with pytest.raises(DataMissingError) as err:
        sources.fetch(["csp-shares"], data_dir=tmp_path, mirror=False, download=False)
    msg = str(err.value)
    assert "the no mirror" not in msg
    assert "not in any mirror (none found) and downloads are disabled" in msg
    with pytest.raises(DataMissingError, match=f"not in the mirror {tmp_path}"):
        sources.fetch(["csp-shares"], data_dir=tmp_path / "d", mirror=tmp_path, download=False)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_sirene_stock_counts(tmp_path, fmt):
    path = FIXTURES / "StockEtablissement_sample.csv"
    if fmt == "parquet":
        df = pd.read_csv(path, dtype=str)
        path = tmp_path / "StockEtablissement.parquet"
        df.to_parquet(path)
    counts = sources.count_sirene_solos(path)
    assert counts.loc["62045", "solos"] == 3  # NN, empty band, 01; not 02, closed or NAF 56
    assert counts.loc["62063", "solos"] == 2
    assert counts.loc["2A004", "solos"] == 1
    assert counts.loc["01001", "solos"] == 1
    assert counts.loc["62041", "solos"] == 1  # band 11 excluded
    assert counts["solos"].sum() == 8
    assert counts.loc["62045", "70.22Z"] == 1
    only = sources.count_sirene_solos(path, communes=["62063"])
    assert only.index.tolist() == ["62063"]
    wider = sources.count_sirene_solos(path, bands=["NN", "00", "01", "02"])
    assert wider.loc["62045", "solos"] == 4


def test_sirene_wrong_schema(tmp_path):
    p = tmp_path / "not_sirene.csv"
    p.write_text("siret,commune\n1,62041\n")
    with pytest.raises(DataFormatError, match="codeCommuneEtablissement"):
        sources.count_sirene_solos(p)


def test_third_places_located_and_coded(data_dir):
    tp = sources.load_third_places(data_dir)
    assert len(tp) == 1512
    assert tp["code"].notna().all()
    assert (tp["code_source"] == "located").sum() >= 157
    arras = tp[tp["name"] == "MIXTE co-working"]
    assert arras["code"].tolist() == ["62041"]
    assert tp.loc[tp["name"] == "La verrière", "code"].tolist() == ["59481"]


def test_density_grid(data_dir):
    g = sources.load_density_grid(data_dir)
    assert g.loc["01001", "dens"] == 6
    assert set(g["dens"].dropna().unique()) <= set(range(1, 8))


def test_census_labels_are_insee_long_labels(data_dir):
    # the fallback's documentation quotes INSEE's own labels (meta file in the zip)
    with zipfile.ZipFile(sources.dataset_path("census-rp2018", data_dir)) as zf:
        meta = pd.read_csv(zf.open("meta_base_cc_comparateur.CSV"), sep=";", dtype=str)
    labels = meta.drop_duplicates("COD_VAR").set_index("COD_VAR")["LIB_VAR_LONG"]
    for var, label in sources.CENSUS_LABELS.items():
        assert labels[var] == label, var
    assert set(sources.CENSUS_LABELS) <= set(sources.CENSUS_COLUMNS)


def test_third_places_from_a_user_file_in_the_cget_layout(tmp_path, data_dir):
    f = tmp_path / "mes-tiers-lieux.csv"
    f.write_text(
        "ID,NOM_TL,ADRESSE,INSEECOM,TYPO,LAT,LONG\n"
        "T1,Espace Arras,1 place des Héros,62041,Tiers lieux à dominante coworking,"
        "50.2912,2.7775\n"
        "T2,Grange partagée,,0,Tiers lieux à dominante fablab,50.3515,2.5900\n",
        encoding="utf-8")
    tp = sources.load_third_places(data_dir, path=f)
    assert tp["code"].tolist() == ["62041", "62045"]  # the second located in Aubigny
    assert tp["code_source"].tolist() == ["file", "located"]
    assert tp["address"].tolist() == ["1 place des Héros", ""]
    with pytest.raises(DataMissingError, match="supply.file"):
        sources.load_third_places(data_dir, path=tmp_path / "absent.csv")


def test_fetch_all_skips_optional_datasets_it_cannot_obtain(tmp_path, data_dir, monkeypatch):
    from territorial_geo.sources import fetching

    sub = {n: sources.CATALOG[n] for n in ("census-rp2018", "third-places", "establishments-2014")}
    monkeypatch.setattr(fetching, "CATALOG", sub)
    ok = (data_dir / sub["census-rp2018"].path).resolve().as_uri()
    gone = (tmp_path / "gone.csv").as_uri()
    urls = {"census-rp2018": ok, "third-places": gone}
    res = {r.name: r.action for r in sources.fetch(None, data_dir=tmp_path / "d", mirror=False, urls=urls)}
    # the CGET file does not download and the 2014 file has no address: skipped, not failed
    assert res == {"census-rp2018": "downloaded", "third-places": "unavailable",
                   "establishments-2014": "unavailable"}
    with pytest.raises(DataMissingError, match="third-places"):  # named: an error
        sources.fetch(["third-places"], data_dir=tmp_path / "d", mirror=False,
                      urls=urls)
    with pytest.raises(DataMissingError, match="census-rp2018"):  # required: never skipped
        sources.fetch(None, data_dir=tmp_path / "e", mirror=False,
                      urls={"census-rp2018": gone, "third-places": gone})
    assert "third-places" in sources.OPTIONAL and "census-rp2018" in sources.REQUIRED
