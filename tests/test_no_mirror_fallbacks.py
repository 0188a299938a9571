"""What a study falls back on when an optional dataset is missing (no mirror): the
approximate network without the classified-road skeleton, and no third-place inventory."""

from __future__ import annotations

import shapely

from territorial_geo import config, network, outputs, sources, supply
from territorial_geo.network.load import NO_SKELETON


def _area_inputs(data_dir, code="62045", margin_m=4000.0):
    communes = sources.load_communes(data_dir)
    area = communes.loc[code].geometry
    frames = network.area_frames(area, communes=communes,
                                 chefs_lieux=sources.load_chefs_lieux(data_dir),
                                 density=sources.load_density_grid(data_dir), margin_m=margin_m)
    return area, frames


def test_approximate_network_without_skeleton_uses_local_links_only(tmp_path, data_dir):
    area, (communes, cl, dens) = _area_inputs(data_dir)
    empty = tmp_path / "data"  # no roads/france-classified.osm.pbf here
    net = network.load_network("approximate", area=area, margin_m=4000, data_dir=empty,
                               communes=communes, chefs_lieux=cl, density=dens)
    assert net.kind == "approximate"
    assert net.source["skeleton"] is None
    assert set(net.edges["link"]) == {"local"}
    assert net.source["n_local_links"] > 0 and net.source["n_access_links"] == 0
    note = net.source["note"]
    assert note.startswith(NO_SKELETON)
    # Aubigny's area is in the Pas-de-Calais: the extract to fetch is named
    assert "data fetch --dataset osm:nord-pas-de-calais" in note
    info = net.info()
    assert info["note"] == note and info["skeleton"] is None
    assert NO_SKELETON in outputs.network_label(net)
    # once the regional extract is in the data directory, the note points at it
    (empty / "osm").mkdir(parents=True)
    (empty / "osm" / "nord-pas-de-calais-latest.osm.pbf").write_bytes(b"")
    net2 = network.load_network("approximate", area=area, margin_m=4000, data_dir=empty,
                                communes=communes, chefs_lieux=cl, density=dens)
    assert "in the data directory: network = 'osm:nord-pas-de-calais'" in net2.source["note"]
    assert net2.n_nodes == net.n_nodes


def test_approximate_network_with_skeleton_has_no_fallback_note(data_dir):
    area, (communes, cl, dens) = _area_inputs(data_dir, margin_m=2000.0)
    net = network.load_network("approximate", area=area, margin_m=2000, data_dir=data_dir,
                               communes=communes, chefs_lieux=cl, density=dens)
    assert net.source["skeleton"] is not None
    assert "note" not in net.source
    assert "skeleton" in set(net.edges["link"])


def test_supply_inventory_missing_file_or_not_used(tmp_path, data_dir):
    cfg = config.StudyConfig()
    inv, label = supply.supply_inventory(cfg, tmp_path)  # a data directory without CGET
    assert inv is None and label == supply.NO_INVENTORY
    assert "supply.file" in label and "TERRITORIAL_GEO_URL_THIRD_PLACES" in label
    cfg.supply.use_cget = False
    inv, label = supply.supply_inventory(cfg, tmp_path)
    assert inv is None and label == "not used (supply.use_cget = false)"
    # a user file in the CGET layout replaces the dataset
    f = tmp_path / "tl.csv"
    f.write_text("ID,NOM_TL,INSEECOM,TYPO,LAT,LONG\n"
                 "A,Espace Arras,62041,Tiers lieux à dominante coworking,50.2912,2.7775\n",
                 encoding="utf-8")
    cfg, _ = config.config_from_dict({"supply": {"file": str(f)}})
    inv, label = supply.supply_inventory(cfg, data_dir)
    assert inv["code"].tolist() == ["62041"] and label == (
        f"study file supply.file = {f} (read as UTF-8, ','-separated)")
    inv, label = supply.supply_inventory(config.StudyConfig(), data_dir)
    assert len(inv) == 1512 and label.endswith("(dataset third-places)")


def test_third_places_without_inventory_keeps_planned_sites(artois, data_dir):
    cfg, _ = config.config_from_dict({"supply": {"planned": ["62045"]}})
    sites = supply.third_places(artois, cfg, data_dir, inventory=None)
    assert sites["status"].tolist() == ["planned"] and sites["code"].tolist() == ["62045"]
    assert shapely.equals(sites.geometry.iloc[0], artois.chefs_lieux.loc["62045"].geometry)
    with_inv = supply.third_places(artois, cfg, data_dir)  # CGET loaded: Arras is in the ring
    assert "62041" in set(with_inv.loc[with_inv["status"] == "existing", "code"])
