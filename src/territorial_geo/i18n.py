"""The message catalogue: every label of the map, report, PNG maps and CLI summary.

French is the default language (the readers are French elected officials and planners);
English is the alternative (``--lang en`` or ``output.lang = "en"`` in the study file).
Each key exists in both languages (``tests/test_officials.py`` checks it); labels are
``str.format`` templates.

Examples
--------
>>> from territorial_geo.i18n import messages
>>> _ = messages("fr")
>>> _("seats_year", year=2025)
'Places 2025'
"""

from __future__ import annotations

from collections.abc import Callable

#: Languages with a full catalogue; the first is the default.
LANGS: tuple[str, ...] = ("fr", "en")
DEFAULT_LANG = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        # --- map ---------------------------------------------------------------------------
        "map_title": "{name} : potentiel de tiers-lieux",
        "layer_choropleth": "Carte : {label}",
        "teleworkers_census": "Salariés en télétravail (recensement 2018)",
        "solos_year": "Travailleurs indépendants {year}",
        "seats_year_long": "Places {year} (indépendants + télétravailleurs)",
        "seats_year": "Places {year}",
        "solos_short": "Indépendants {year}",
        "teleworkers": "Télétravailleurs",
        "commune": "Commune",
        "population_2026": "Population 2026",
        "zones_of_commune": "Zone(s)",
        "min_to_town": "Minutes au bourg-centre le plus proche",
        "coverage_layer": "Couverture : minutes au tiers-lieu le plus proche",
        "min_to_site": "Minutes au tiers-lieu le plus proche",
        "zone_layer": "Zone {name} ({code}), {band} min",
        "zone_bands_layer": "Zone {name} : bandes de {bands} min",
        "zone_tooltip": "{name} : {band} min ({area} km²)",
        "outline_layer": "Contour du territoire",
        "towns_layer": "Bourgs-centres",
        "town_tooltip": "Bourg-centre : {name}",
        "sites_layer": "Tiers-lieux (CGET 2019 et projets)",
        "site_default": "tiers-lieu",
        "site_name": "Nom",
        "site_type": "Type",
        "site_status": "Statut",
        "site_seats": "Places",
        "status_existing": "existant",
        "status_planned": "en projet",
        "planned_name": "Projet : {name}",
        "legend_zones": "Zones à {budget} min des bourgs-centres",
        "search_placeholder": "Rechercher une commune…",
        "search_none": "Aucune commune de ce nom",
        "fullscreen": "Plein écran",
        "print": "Imprimer / exporter en PDF",
        "offline_layer": "Fond hors ligne (communes, routes principales)",
        "tiles_layer": "Fond OpenStreetMap (en ligne)",
        "tiles_attribution": "© contributeurs OpenStreetMap",
        "popup_minutes": "Temps de trajet vers chaque bourg-centre",
        "popup_beyond": "au-delà de {band} min",
        "popup_seats": "Places de travail (indépendants + télétravailleurs)",
        "popup_in_zone": "dans la zone",
        "town_popup": "{n_all} communes à moins de {budget} min ({n_in} dans le territoire)",
        "credits": ("Sources : IGN ADMIN EXPRESS, INSEE (RP 2018, COG 2026, SIRENE), tiers-lieux "
                    "CGET 2019, © contributeurs OpenStreetMap (squelette Travel Mapping)"),
        "png_third_place": "tiers-lieu",
        "png_zone": "zone {name}",
        "png_crs": "Lambert-93 (EPSG:2154)",
        # --- report -------------------------------------------------------------------------
        "report_title": "{name} : potentiel de tiers-lieux",
        "report_intro": ("Réponses d'abord (places par zone, carte, recouvrements, variante "
                         "sans pôle, couverture), méthode et paramètres ensuite."),
        "h_key_facts": "Le territoire en bref",
        "k_territory": "Territoire",
        "k_communes": "Communes",
        "k_population": "Population (2026)",
        "k_area": "Superficie (km²)",
        "k_ring": "Couronne",
        "k_ring_value": "{n} communes à moins de {km} km",
        "k_towns": "Bourgs-centres",
        "k_budget": "Budget de temps",
        "k_budget_value": "{budget} min, sens « {direction} »",
        "k_network": "Réseau routier",
        "h_seats": "Places de travail par zone et par année",
        "seats_answer": ("Places de travail à prévoir (indépendants + salariés en télétravail) "
                         "dans chaque zone. Une zone compte toutes ses communes membres, dans "
                         "{territory} ou non ; les zones se recouvrent, d'où la ligne "
                         "« union » qui compte chaque commune une fois."),
        "seats_interval": "Entre crochets : intervalle p10 – p90.",
        "h_map": "Carte",
        "map_link": "Carte interactive (map.html) : recherche d'une commune, légende, impression",
        "map_iframe": "carte interactive",
        "h_overlap": "Zones et recouvrements",
        "overlap_all": ("<b>Toutes les communes membres</b> (overlap.csv) : chaque commune dont "
                        "le chef-lieu est à moins du budget du bourg-centre, dans {territory} "
                        "ou non. Sur la diagonale, les communes de chaque zone ; ailleurs, les "
                        "communes partagées par deux zones. Les places d'une zone les comptent "
                        "toutes."),
        "overlap_terr": ("<b>Communes de {territory} seulement</b> (overlap_territory.csv) : "
                         "le même tableau restreint aux communes du territoire."),
        "h_pole": "Variante sans pôle concurrent",
        "pole_text": ("Une zone concurrencée par un pôle voisin (p. ex. Duisans et Arras) : ses "
                      "places avec et sans les communes à moins du budget de ce pôle."),
        "no_pole": "Aucun pôle concurrent configuré.",
        "h_supply": "Offre existante",
        "no_supply": "Aucun tiers-lieu existant dans les zones.",
        "h_coverage": "Couverture",
        "coverage_text": ("Part de la population, des télétravailleurs et des indépendants à "
                          "moins de N minutes d'un tiers-lieu."),
        "h_selection": "Nouveaux sites (couverture maximale)",
        "h_static_maps": "Cartes imprimables",
        "h_method": "Méthode et paramètres",
        "method_text": ("Zones : communes dont le chef-lieu atteint celui du bourg-centre dans "
                        "le budget de temps sur le réseau routier (trajets d'accroche compris). "
                        "Demande : méthode DARES pour les salariés en télétravail, SIRENE (ou "
                        "un repli signalé) pour les indépendants, parts d'usage CDC pour les "
                        "places. Chaque paramètre et sa source :"),
        "h_seats_detail": "Places par zone : détail par segment",
        "seats_detail_text": ("Les zones se recouvrent : la somme des zones compte deux fois "
                              "les communes partagées. L'union compte chaque commune une fois ; "
                              "l'attribution exclusive donne chaque commune au bourg-centre le "
                              "plus proche (à égalité : le premier cité) et a l'union pour "
                              "somme. <i>résidents du territoire</i> : la part des places qui "
                              "vit dans les communes de {territory}."),
        "h_notes": "Estimations et hypothèses",
        "h_sources": "Sources des données",
        "print_button": "Imprimer / PDF",
        "col_value": "valeur",
        "col_source": "source",
        "col_zone": "zone",
        "col_year": "année",
        "col_communes": "communes",
        "col_communes_without_pole": "communes sans le pôle",
        "col_seats": "places",
        "col_seats_without_pole": "places sans le pôle",
        "col_variant": "variante",
        "col_segment": "segment",
        "variant_zone": "zone",
        "variant_union": "union",
        "variant_exclusive": "exclusive",
        "variant_territory_residents": "résidents du territoire",
        "variant_net_of_supply": "net de l'offre",
        "segment_total": "total",
        "segment_solos": "indépendants",
        "segment_teleworkers": "télétravailleurs",
        "all_zones": "toutes (union)",
        # --- CLI ----------------------------------------------------------------------------
        "cli_head": "{name} : {n} communes, {z} zones",
        "cli_seats": "  places {year} (union, chaque commune une fois) : {seats}",
        "cli_outputs": "résultats dans {path}/ (report.html, map.html, zones.csv, ...)",
        "cli_pdf": "PDF : {path}",
        "kv": "{k} : {v}",
        "unc_heading": "Incertitude et sensibilité",
        "tornado_union": "{name} : union des zones, un paramètre à la fois",
        "tornado_zone": "{name} : {zone} ({code}), un paramètre à la fois",
        "unc_intro": ("Monte-Carlo sur les plages des paramètres ({draws} tirages, graine "
                      "{seed}) : chaque paramètre incertain est tiré entre sa valeur basse et "
                      "sa valeur haute (loi triangulaire, mode à la valeur de l'étude ; le jeu "
                      "de taux de télétravail bas, central ou haut avec la même probabilité), "
                      "la source ou l'HYPOTHÈSE de chaque plage ci-dessous. <i>seats</i> est "
                      "le chiffre de l'étude ; p10-p90 l'intervalle à 80 %, p50 la médiane "
                      "(colonnes seats_p10, seats_p50, seats_p90 de zones.csv)."),
        "unc_sensitivity": ("Un paramètre à la fois (les autres à la valeur de l'étude) : "
                            "places {year} de l'union des zones, plus grand écart d'abord."),
        "interval_80": " (intervalle à 80 % : {lo} – {hi})",
        "h_coverage_detail": "Couverture : détail par EPCI et département",
        "col_minutes": "temps",
        "col_share_population": "part de la population",
        "col_share_teleworkers": "part des télétravailleurs",
        "col_share_solos": "part des indépendants",
        "col_zone_name": "bourg-centre",
        "col_n_sites": "tiers-lieux",
        "col_sites": "liste",
        "col_inventory": "inventaire",
        "col_net_seats": "places nettes de l'offre",
        "col_step": "étape",
        "col_site": "site",
        "col_gain": "gain",
        "col_covered": "couverts",
        "col_share": "part",
        "col_method": "méthode",
        "col_status": "statut",
        "col_gap": "écart",
        "col_bound": "borne",
        "direction_to": "vers le bourg-centre",
        "direction_from": "depuis le bourg-centre",
        "net_approximate": "réseau APPROXIMATIF",
        "net_detailed": "réseau détaillé",
        "net_counts": "{nodes} nœuds, {edges} arcs orientés",
        "net_fitted": "vitesses ajustées aux temps en voiture d'OSRM (méthode §2.6.5)",
        # --- batch map (territorial-geo batch) ---------------------------------------------
        "batch_layer": "EPCI : places non couvertes {year}",
        "batch_legend": "Places non couvertes {year} (gris : erreur)",
        "batch_title": "Places de coworking non couvertes {year} par EPCI (gris : erreur)",
        "batch_error": "erreur",
        "batch_status_error": "statut : erreur",
        "batch_communes": "{n} communes, population {pop}",
        "batch_zones": "{n} zones (bourgs-centres {towns})",
        "batch_seats": "Places {year} (union des zones) : {v}",
        "batch_supply": "Places existantes dans les zones : {v} (HYPOTHÈSE : seats_per_site)",
        "batch_unmet": "Places non couvertes {year} : {v}",
        "batch_within": "Population à 10 / 20 min d'un tiers-lieu : {a} / {b}",
        "batch_uncovered": "Population au-delà du budget de couverture : {v}",
        "batch_na": "n.d.",
        # --- scenario sweeps and tornado charts ---------------------------------------------
        "tornado_low": "valeur basse",
        "tornado_high": "valeur haute",
        "tornado_xlabel": "places {year} ({segment}) ; trait : valeur de l'étude {central}",
        "sweep_union": "union des zones",
        "sweep_seats": "places",
        "sweep_ylabel": "places {year} (indépendants + télétravailleurs)",
        "sweep_title": "{name} — scénarios",
        "sweep_h_scenarios": "Scénarios",
        "sweep_h_sensitivity": "Sensibilité",
        "sweep_intro": ("Places {year} (indépendants + télétravailleurs) par scénario : chaque "
                        "zone compte toutes ses communes membres ; « toutes (union) » compte "
                        "chaque commune une fois. Table complète : scenarios.csv."),
        "sweep_sens_intro": ("Un paramètre à la fois entre sa valeur basse et sa valeur haute, "
                             "les autres à la valeur de l'étude : places {year} de l'union "
                             "(sensitivity.csv donne chaque zone)."),
        "sweep_note": ("{n} scénarios ; paramètres variés : {paths} ; {routing} passe(s) de "
                       "routage, {demand} calcul(s) de la demande, {loads} chargement(s) des "
                       "données de demande."),
        "cli_sweep": ("{name} : {n} scénarios, {routing} passe(s) de routage, {demand} "
                      "calcul(s) de la demande"),
        "cli_sweep_union": "  places de l'union {year} : min {lo}, max {hi}",
        "cli_sweep_outputs": ("résultats dans {path}/ (scenarios.csv, report.html, chart_*.png, "
                              "tornado_*.png)"),
    },
    "en": {
        "map_title": "{name}: coworking potential",
        "layer_choropleth": "Choropleth: {label}",
        "teleworkers_census": "Salaried teleworkers (census 2018)",
        "solos_year": "Solo workers {year}",
        "seats_year_long": "Seats {year} (solos + teleworkers)",
        "seats_year": "Seats {year}",
        "solos_short": "Solos {year}",
        "teleworkers": "Teleworkers",
        "commune": "Commune",
        "population_2026": "Population 2026",
        "zones_of_commune": "Zone(s)",
        "min_to_town": "Minutes to nearest market town",
        "coverage_layer": "Coverage: minutes to the nearest third place",
        "min_to_site": "Minutes to nearest third place",
        "zone_layer": "Zone {name} ({code}), {band} min",
        "zone_bands_layer": "Zone {name}: bands {bands} min",
        "zone_tooltip": "{name}: {band} min ({area} km²)",
        "outline_layer": "Territory outline",
        "towns_layer": "Market towns",
        "town_tooltip": "Market town: {name}",
        "sites_layer": "Third places (CGET 2019 and planned)",
        "site_default": "third place",
        "site_name": "Name",
        "site_type": "Type",
        "site_status": "Status",
        "site_seats": "Seats",
        "status_existing": "existing",
        "status_planned": "planned",
        "planned_name": "Planned: {name}",
        "legend_zones": "Zones within {budget} min of the market towns",
        "search_placeholder": "Search a commune…",
        "search_none": "No commune of that name",
        "fullscreen": "Fullscreen",
        "print": "Print / export to PDF",
        "offline_layer": "Offline background (communes, main roads)",
        "tiles_layer": "OpenStreetMap background (online)",
        "tiles_attribution": "© OpenStreetMap contributors",
        "popup_minutes": "Drive time to each market town",
        "popup_beyond": "beyond {band} min",
        "popup_seats": "Workplaces (solos + teleworkers)",
        "popup_in_zone": "in the zone",
        "town_popup": "{n_all} communes within {budget} min ({n_in} in the territory)",
        "credits": ("Sources: IGN ADMIN EXPRESS, INSEE (RP 2018, COG 2026, SIRENE), CGET 2019 "
                    "third places, © OpenStreetMap contributors (Travel Mapping skeleton)"),
        "png_third_place": "third place",
        "png_zone": "zone {name}",
        "png_crs": "Lambert-93 (EPSG:2154)",
        "report_title": "{name}: coworking potential",
        "report_intro": ("Answers first (seats per zone, map, overlaps, without-pole variant, "
                         "coverage), then method and parameters."),
        "h_key_facts": "The territory at a glance",
        "k_territory": "Territory",
        "k_communes": "Communes",
        "k_population": "Population (2026)",
        "k_area": "Area (km²)",
        "k_ring": "Ring",
        "k_ring_value": "{n} communes within {km} km",
        "k_towns": "Market towns",
        "k_budget": "Time budget",
        "k_budget_value": "{budget} min, direction '{direction}'",
        "k_network": "Road network",
        "h_seats": "Seats per zone and year",
        "seats_answer": ("Workplaces to plan (solo workers + salaried teleworkers) in each "
                         "zone. A zone counts all its member communes, inside {territory} or "
                         "not; zones overlap, hence the 'union' row that counts each commune "
                         "once."),
        "seats_interval": "In brackets: the p10 – p90 interval.",
        "h_map": "Map",
        "map_link": "Interactive map (map.html): commune search, legend, printing",
        "map_iframe": "interactive map",
        "h_overlap": "Zones and overlaps",
        "overlap_all": ("<b>All member communes</b> (overlap.csv): every commune whose "
                        "chef-lieu is within the budget of the market town, inside or outside "
                        "{territory}. Communes per zone on the diagonal, communes shared by two "
                        "zones off it. Zone seats count all of them."),
        "overlap_terr": ("<b>Communes of {territory} only</b> (overlap_territory.csv): the "
                         "same table restricted to the territory's own communes."),
        "h_pole": "Without-pole variant",
        "pole_text": ("A zone competing with a nearby pole (e.g. Duisans and Arras): its seats "
                      "with and without the communes within the budget of that pole."),
        "no_pole": "No competing pole configured.",
        "h_supply": "Existing supply",
        "no_supply": "No existing third place in the zones.",
        "h_coverage": "Coverage",
        "coverage_text": ("Share of population, teleworkers and solo workers within N minutes "
                          "of a third place."),
        "h_selection": "New sites (maximal covering)",
        "h_static_maps": "Printable maps",
        "h_method": "Method and parameters",
        "method_text": ("Zones: communes whose chef-lieu reaches the market town's chef-lieu "
                        "within the budget on the road network (snap legs included). Demand: "
                        "DARES method for salaried teleworkers, SIRENE (or a labelled fallback) "
                        "for solo workers, CDC usage shares for seats. Every parameter and its "
                        "source:"),
        "h_seats_detail": "Seats per zone: detail by segment",
        "seats_detail_text": ("Zones overlap: the sum of zones double counts shared communes. "
                              "The union counts each commune once; the exclusive allocation "
                              "gives each commune to its nearest market town (equal times: the "
                              "town listed first) and sums to the union. <i>territory "
                              "residents</i>: the part of the seats living in {territory}'s own "
                              "communes."),
        "h_notes": "Estimates and assumptions",
        "h_sources": "Data sources",
        "print_button": "Print / PDF",
        "col_value": "value",
        "col_source": "source",
        "col_zone": "zone",
        "col_year": "year",
        "col_communes": "communes",
        "col_communes_without_pole": "communes without the pole",
        "col_seats": "seats",
        "col_seats_without_pole": "seats without the pole",
        "col_variant": "variant",
        "col_segment": "segment",
        "variant_zone": "zone",
        "variant_union": "union",
        "variant_exclusive": "exclusive",
        "variant_territory_residents": "territory residents",
        "variant_net_of_supply": "net of supply",
        "segment_total": "total",
        "segment_solos": "solo workers",
        "segment_teleworkers": "teleworkers",
        "all_zones": "all (union)",
        "cli_head": "{name}: {n} communes, {z} zones",
        "cli_seats": "  seats {year} (union, each commune once): {seats}",
        "cli_outputs": "outputs in {path}/ (report.html, map.html, zones.csv, ...)",
        "cli_pdf": "PDF: {path}",
        "kv": "{k}: {v}",
        "unc_heading": "Uncertainty and sensitivity",
        "tornado_union": "{name}: union of the zones, one parameter at a time",
        "tornado_zone": "{name}: {zone} ({code}), one parameter at a time",
        "unc_intro": ("Monte Carlo over the parameter ranges ({draws} draws, seed {seed}): "
                      "each uncertain parameter is drawn between its low and high value "
                      "(triangular, mode at the study's value; the telework preset low, "
                      "central or high with equal probability), every range's source or "
                      "ASSUMPTION below. <i>seats</i> is the study's figure; p10-p90 the 80 % "
                      "interval, p50 the median (zones.csv columns seats_p10, seats_p50, "
                      "seats_p90)."),
        "unc_sensitivity": ("One parameter at a time (the others at the study's value): "
                            "seats {year} of the union of the zones, largest swing first."),
        "interval_80": " (80 % interval {lo} – {hi})",
        "h_coverage_detail": "Coverage: detail by EPCI and department",
        "col_minutes": "time",
        "col_share_population": "share of population",
        "col_share_teleworkers": "share of teleworkers",
        "col_share_solos": "share of solo workers",
        "col_zone_name": "market town",
        "col_n_sites": "third places",
        "col_sites": "list",
        "col_inventory": "inventory",
        "col_net_seats": "seats net of supply",
        "col_step": "step",
        "col_site": "site",
        "col_gain": "gain",
        "col_covered": "covered",
        "col_share": "share",
        "col_method": "method",
        "col_status": "status",
        "col_gap": "gap",
        "col_bound": "bound",
        "direction_to": "towards the market town",
        "direction_from": "from the market town",
        "net_approximate": "APPROXIMATE network",
        "net_detailed": "detailed network",
        "net_counts": "{nodes} nodes, {edges} directed edges",
        "net_fitted": "speeds fitted to OSRM car times (method §2.6.5)",
        # --- batch map (territorial-geo batch) ---------------------------------------------
        "batch_layer": "EPCIs: unmet seats {year}",
        "batch_legend": "Unmet seats {year} (grey: error)",
        "batch_title": "Unmet coworking seats {year} by EPCI (grey: error)",
        "batch_error": "error",
        "batch_status_error": "status: error",
        "batch_communes": "{n} communes, population {pop}",
        "batch_zones": "{n} zones (market towns {towns})",
        "batch_seats": "Seats {year} (union of zones): {v}",
        "batch_supply": "Existing seats in the zones: {v} (ASSUMPTION: seats_per_site)",
        "batch_unmet": "Unmet seats {year}: {v}",
        "batch_within": "Population within 10 / 20 min of a third place: {a} / {b}",
        "batch_uncovered": "Population farther than the coverage budget: {v}",
        "batch_na": "n/a",
        # --- scenario sweeps and tornado charts ---------------------------------------------
        "tornado_low": "low value",
        "tornado_high": "high value",
        "tornado_xlabel": "seats {year} ({segment}); line: the study's value {central}",
        "sweep_union": "union of the zones",
        "sweep_seats": "seats",
        "sweep_ylabel": "seats {year} (solos + teleworkers)",
        "sweep_title": "{name} — scenarios",
        "sweep_h_scenarios": "Scenarios",
        "sweep_h_sensitivity": "Sensitivity",
        "sweep_intro": ("Seats {year} (solos + teleworkers) per scenario: each zone counts every "
                        "member commune; \"all (union)\" counts each commune once. Tidy table: "
                        "scenarios.csv."),
        "sweep_sens_intro": ("One parameter at a time between its low and high value, the "
                             "others at the study's value: seats {year} of the union "
                             "(sensitivity.csv has every zone)."),
        "sweep_note": ("{n} scenarios; varied: {paths}; {routing} routing pass(es), {demand} "
                       "demand run(s), {loads} demand-input load(s)."),
        "cli_sweep": "{name}: {n} scenarios, {routing} routing pass(es), {demand} demand run(s)",
        "cli_sweep_union": "  union seats {year}: min {lo}, max {hi}",
        "cli_sweep_outputs": ("outputs in {path}/ (scenarios.csv, report.html, chart_*.png, "
                              "tornado_*.png)"),
    },
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it has a catalogue.

    Raises
    ------
    ValueError
        Unknown language (the known ones are named).
    """
    if lang not in MESSAGES:
        raise ValueError(f"language {lang!r} unknown; one of: {', '.join(LANGS)}")
    return lang


def messages(lang: str = DEFAULT_LANG) -> Callable[..., str]:
    """The translation function of a language: ``_(key, **fields) -> str``.

    Parameters
    ----------
    lang
        ``"fr"`` or ``"en"``.

    Returns
    -------
    callable
        Formats the message ``key`` with ``fields``; a missing key raises ``KeyError``.
    """
    table = MESSAGES[check_lang(lang)]

    def _(key: str, **fields) -> str:
        text = table[key]
        return text.format(**fields) if fields else text

    return _


def number(value: float, lang: str = DEFAULT_LANG, *, digits: int = 1) -> str:
    """A number written the language's way (French: ``1 234,5``; English: ``1,234.5``)."""
    s = f"{value:,.{digits}f}"
    if lang == "fr":
        s = s.replace(",", "\u202f").replace(".", ",")
    return s
