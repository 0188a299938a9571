"""The study's ``report.html``: its sections assembled from a
:class:`~territorial_geo.result.StudyResult` for :func:`territorial_geo.report.write_report`
(the uncertainty and demand detail, the key facts, the estimated inputs), with the tornado
charts it embeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from territorial_geo import demand, i18n, report, uncertainty
from territorial_geo.config import flatten
from territorial_geo.i18n import Note, render
from territorial_geo.outputs.rendercache import RenderCache
from territorial_geo.outputs.tables import (
    engine_label,
    network_label,
    seats_pivot,
    with_inventory,
)

if TYPE_CHECKING:  # annotations only: the study imports this package, not the reverse
    import geopandas as gpd

    from territorial_geo.result import StudyResult


def teleworker_rule_sentence(res: StudyResult, lang: str) -> str | None:
    """One sentence: why teleworker seats jump between the share-of-users anchor year and
    the usage anchor year, and the union's base-year teleworker seats under the later rule
    (``None`` when the study has no anchor of one kind or no such year)."""
    seats = res.config.demand.seats
    share = [a for a in seats.teleworkers if a.share_of_users is not None]
    usage = [a for a in seats.teleworkers if a.usage_share is not None]
    rules = res.teleworker_rules
    if not share or not usage or not len(rules):
        return None
    a, b = share[0], usage[0]
    union = rules[rules["zone"] == demand.ALL_ZONES].set_index(["year", "rule"])
    if (a.year, "share_of_teleworkers") not in union.index:
        return None
    alt = union.loc[(a.year, "share_of_teleworkers"), "seats_teleworkers"]
    cur_rule = demand.study_rule(seats, a.year)
    cur = (union.loc[(a.year, cur_rule), "seats_teleworkers"]
           if (a.year, cur_rule) in union.index else np.nan)
    _ = i18n.messages(lang)
    pct = round(100 * a.share_of_users)
    return _("tele_rule_text", y0=a.year, y1=b.year, s=f"{pct:g}", rest=f"{100 - pct:g}",
             u=i18n.number(100 * b.usage_share, lang, digits=0), h=f"{b.hours_per_month:g}",
             alt=i18n.number(alt, lang), cur=i18n.number(cur, lang))


def demand_sections(res: StudyResult, d: Path, *, cache: RenderCache | None = None
                    ) -> list[tuple[str, str, str]]:
    """The report's demand detail (issue 19), as ``(French heading, English heading,
    HTML)``: the persons behind the seats, the members dropped without a competing pole,
    the teleworker rule of each year with the base-year tornado chart (written to ``d`` as
    ``tornado_union_YEAR.png`` when the study has a sensitivity table; reused from
    ``cache`` when drawn earlier from the same rows)."""
    cfg = res.config
    lang = cfg.output.lang
    fr, en = i18n.messages("fr"), i18n.messages("en")
    out = [(fr("h_counts"), en("h_counts"), report.counts_section(res.zone_seats, lang=lang))]
    if len(res.pole_dropped):
        n_all = {z: len(v) for z, v in res.zones.membership(territory_only=False).items()}
        hy = cfg.demand.horizon_year
        out.append((fr("h_pole_dropped"), en("h_pole_dropped"), report.pole_dropped_section(
            res.pole_dropped, n_all, res.demand.table[f"seats_total_{hy}"], year=hy,
            lang=lang)))
    sentence = teleworker_rule_sentence(res, lang)
    if sentence is not None:
        seats = cfg.demand.seats
        y0 = next(a.year for a in seats.teleworkers if a.share_of_users is not None)
        y1 = next(a.year for a in seats.teleworkers if a.usage_share is not None)
        tornado = None
        if res.sensitivity is not None and (res.sensitivity["year"] == y0).any():
            tornado = uncertainty.tornado_chart(
                res.sensitivity, d / f"tornado_union_{y0}.png", zone=demand.ALL_ZONES, variant=demand.UNION,
                year=y0, title=i18n.messages(lang)("tornado_union_year", name=cfg.name, year=y0),
                lang=lang, cache=cache)
        body = report.teleworker_rule_section(
            res.teleworker_rules, sentence=sentence, tornado=tornado,
            tornado_text=i18n.messages(lang)("tele_rule_sens", year=y0), lang=lang)
        out.append((fr("h_tele_rule", y0=y0, y1=y1), en("h_tele_rule", y0=y0, y1=y1), body))
    return out


def estimate_flags(res: StudyResult, *, lang: str = i18n.DEFAULT_LANG) -> list[str]:
    """The estimated inputs a reader must know beside the seats they feed: the solo-worker
    fallback, the approximate network, members living outside the territory."""
    _ = i18n.messages(lang)
    out = []
    if res.demand.sources.get("solos", "").startswith("FALLBACK"):
        out.append(_("flag_solos"))
    if res.prepared.network.kind == "approximate":
        out.append(_("flag_network"))
    n_out = len(set(res.zones.within(territory_only=False)["code"]) - set(res.territory.codes))
    if n_out:
        out.append(_("flag_outside", territory=res.territory.name, n=n_out))
    return out


def uncertainty_section(res: StudyResult, d: Path, *, cache: RenderCache | None = None
                        ) -> tuple[str, str, str] | None:
    """The report's uncertainty section (``None`` without Monte Carlo intervals), with the
    tornado charts of the union (``tornado_union.png``) and of each zone
    (``tornado_<zone>.png``) written to ``d`` (reused from ``cache`` when drawn earlier from
    the same rows)."""
    cfg, zones, zs = res.config, res.zones, res.zone_seats
    if "seats_p10" not in zs or res.sensitivity is None:
        return None
    lang = cfg.output.lang
    _ = i18n.messages(lang)
    hy = cfg.demand.horizon_year
    tornado = uncertainty.tornado_chart(
        res.sensitivity, d / "tornado_union.png", zone=demand.ALL_ZONES, variant=demand.UNION, year=hy,
        title=_("tornado_union", name=cfg.name), lang=lang, cache=cache)
    for zc in zones.zone_codes:
        uncertainty.tornado_chart(
            res.sensitivity, d / f"tornado_{zc}.png", zone=zc, variant=demand.ZONE, year=hy,
            title=_("tornado_zone", name=cfg.name, zone=zones.towns.loc[zc, "nom"], code=zc),
            lang=lang, cache=cache)
    iv = zs[zs["variant"].isin([demand.ZONE, demand.UNION]) & (zs["segment"] == demand.TOTAL)]
    sens = res.sensitivity
    sens = sens[(sens["zone"] == demand.ALL_ZONES) & (sens["variant"] == demand.UNION)
                & (sens["segment"] == demand.TOTAL) & (sens["year"] == hy)]
    return (i18n.MESSAGES["fr"]["unc_heading"], i18n.MESSAGES["en"]["unc_heading"],
            report.uncertainty_section(
                iv[["zone_name", "variant", "year", "seats", "seats_p10", "seats_p50",
                    "seats_p90"]].set_index(["zone_name", "variant", "year"]),
                sens[["parameter", "low", "central", "high", "seats_low",
                      "seats_high", "swing", "source"]].set_index("parameter"),
                year=hy, draws=cfg.uncertainty.draws, seed=cfg.uncertainty.seed,
                tornado=tornado, lang=lang))


def competition_table(res: StudyResult) -> pd.DataFrame:
    """Each zone with a competing pole, per year: its communes and seats with and without
    the pole (``zones.csv``'s ``zone`` and ``without_pole`` variants)."""
    zs = res.zone_seats
    names = res.zones.towns["nom"]
    comp = []
    for zc in res.pole_removed:
        full = zs[(zs["zone"] == zc) & (zs["variant"] == demand.ZONE)
                  & (zs["segment"] == demand.TOTAL)]
        wo = zs[(zs["zone"] == zc) & (zs["variant"] == demand.WITHOUT_POLE)
                & (zs["segment"] == demand.TOTAL)]
        for (_ia, a), (_ib, b) in zip(full.iterrows(), wo.iterrows(), strict=True):
            comp.append({"zone": names[zc], "year": a["year"], "communes": a["n_communes"],
                         "communes_without_pole": b["n_communes"], "seats": a["seats"],
                         "seats_without_pole": b["seats"]})
    return pd.DataFrame(comp)


def key_facts(res: StudyResult) -> dict[str, object]:
    """The report's key facts (label in the study's language -> value): territory,
    communes, population, area, ring, market towns, budget, network, engine."""
    lang = res.config.output.lang
    _ = i18n.messages(lang)
    zones = res.zones
    s = res.territory.summary()
    names = dict(zip(zones.towns.index, zones.towns["nom"], strict=True))
    return {
        _("k_territory"): f"{s['name']} (SIREN {s['siren']})",
        _("k_communes"): s["n_communes"],
        _("k_population"): i18n.number(s["population"], lang, digits=0),
        _("k_area"): i18n.number(s["area_km2"], lang),
        _("k_ring"): _("k_ring_value", n=s["n_ring_communes"], km=f"{s['ring_km']:g}"),
        _("k_towns"): ", ".join(f"{n} ({c})" for c, n in names.items()),
        _("k_budget"): _("k_budget_value", budget=f"{zones.budget_min:g}",
                         direction=_(f"direction_{zones.direction}")),
        _("k_network"): network_label(res.prepared.network, lang=lang),
        _("k_engine"): engine_label(zones.engine, lang=lang),
    }


def write_study_report(
    res: StudyResult, d: Path, *, images: list[Path], overlap: pd.DataFrame,
    overlap_territory: pd.DataFrame, selection: pd.DataFrame | None,
    proposed: gpd.GeoDataFrame, parameters: dict, cache: RenderCache | None = None,
) -> None:
    """Write ``d / "report.html"`` (and the tornado charts it embeds) in the study's
    language: ``images`` are the printable maps, ``selection`` the site-selection table,
    ``proposed`` the proposed sites (:func:`~territorial_geo.outputs.webmap.proposed_sites`),
    ``parameters`` the ``parameters.json`` content; charts drawn earlier from the same rows
    are reused from ``cache``."""
    cfg, terr, zones = res.config, res.territory, res.zones
    lang = cfg.output.lang
    _ = i18n.messages(lang)
    names = dict(zip(zones.towns.index, zones.towns["nom"], strict=True))
    extra = demand_sections(res, d, cache=cache)
    unc = uncertainty_section(res, d, cache=cache)
    if unc is not None:
        extra.append(unc)
    zs = res.zone_seats
    net_rows = zs[zs["variant"] == demand.NET_OF_SUPPLY][["zone_name", "year", "seats"]].rename(
        columns={"seats": "net_seats"})
    supply_tab = (res.supply.merge(net_rows, on="zone_name", how="left") if len(net_rows)
                  else res.supply)
    missing = res.inventory_missing
    report.write_report(
        d / "report.html", title=_("report_title", name=cfg.name), lang=lang,
        zone_seats=zs, summary=key_facts(res), parameters=flatten(cfg, keep=("speeds",)),
        provenance=cfg.provenance(res.overridden), overlap=overlap,
        overlap_territory=overlap_territory, territory_name=terr.name,
        seats_pivot=seats_pivot(res), competition=competition_table(res),
        supply=pd.DataFrame({_("h_supply"): [render(res.inventory, lang)]})
        if missing else with_inventory(supply_tab, res, lang),
        coverage=pd.DataFrame({_("h_coverage"): [
            render(Note("note_cov_skipped", what=res.inventory), lang)]})
        if res.coverage is None and missing and cfg.coverage.sites != "planned"
        else res.coverage,
        selection=None if selection is None else selection.round({"gap": 4}),
        notes=res.notes + [Note("note_source", label=Note(f"src_{k}"), text=v)
                           for k, v in res.demand.sources.items()],
        data_sources=[{"name": k, **{kk: vv for kk, vv in v.items()
                                     if kk not in ("sha256", "obtained")}}
                      for k, v in parameters["datasets"].items() if k != "road_network"],
        images=images, town_names=names, extra_sections=extra,
        flags=estimate_flags(res, lang=lang),
        selection_sentences=list(proposed["sentence"]),
        selection_what=_(f"what_{cfg.coverage.weight}"),
    )
