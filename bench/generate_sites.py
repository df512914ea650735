"""Generate invented site CSV data in the import format (docs/rules.md §10).

    python bench/generate_sites.py --kainuu > data/seed_sites.csv     # the sample data
    python bench/generate_sites.py --sites 10000 > bench/out/sites.csv # a large data set

Everything is made up: organisations, people, phone numbers and street numbers. The
output is deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from placements.services.site_csv import COLUMNS, OPTIONAL_COLUMNS  # noqa: E402

# Sites per municipality, roughly by population (Kajaani has half of Kainuu's people).
KAINUU_SITES = {
    "205": 34,
    "765": 13,
    "290": 11,
    "777": 10,
    "578": 6,
    "620": 5,
    "105": 4,
    "697": 3,
}
# Postal codes of each municipal centre (street-address areas); sites there get coordinates
# near the centre. Village postal codes get no coordinates (the importer falls back).
CENTRE_POSTAL_CODES = {
    "205": ["87100", "87100", "87200", "87300", "87400", "87500", "87700", "87800"],
    "765": ["88600", "88600", "88600"],
    "290": ["88900"],
    "777": ["89600"],
    "578": ["88300"],
    "620": ["89200"],
    "105": ["89400"],
    "697": ["88400"],
}
VILLAGE_POSTAL_CODES = {
    "205": ["88200", "88270", "87850", "87970"],
    "765": ["88610", "88120", "88640"],
    "290": ["88930", "88740"],
    "777": ["89800", "89640", "89920"],
    "578": ["88470", "88350"],
    "620": ["89140", "89320"],
    "105": ["89430"],
    "697": ["88440"],
}
CITIES = {"205", "290"}  # Kajaani and Kuhmo are towns (kaupunki)
TOWN = {
    "205": ("Kajaani", "Kajaanin"),
    "765": ("Sotkamo", "Sotkamon"),
    "290": ("Kuhmo", "Kuhmon"),
    "777": ("Suomussalmi", "Suomussalmen"),
    "578": ("Paltamo", "Paltamon"),
    "620": ("Puolanka", "Puolangan"),
    "105": ("Hyrynsalmi", "Hyrynsalmen"),
    "697": ("Ristijärvi", "Ristijärven"),
}
STREETS = [
    "Kauppakatu",
    "Pohjolankatu",
    "Koulukatu",
    "Asemakatu",
    "Teollisuustie",
    "Ratakatu",
    "Sammonkatu",
    "Lönnrotinkatu",
    "Urheilukatu",
    "Puistotie",
    "Rantatie",
    "Kirkkotie",
    "Konepajantie",
    "Verstastie",
    "Työmiehentie",
    "Myllytie",
    "Sahantie",
    "Kangastie",
    "Tervatie",
    "Harjukatu",
    "Seminaarinkatu",
    "Torikatu",
    "Opintie",
    "Varastotie",
]
FIRST_NAMES = [
    "Aino",
    "Eeva",
    "Helmi",
    "Kaarina",
    "Liisa",
    "Marjut",
    "Niina",
    "Pirjo",
    "Riikka",
    "Sari",
    "Tiina",
    "Ulla",
    "Anne",
    "Jukka",
    "Kari",
    "Markku",
    "Mikko",
    "Pekka",
    "Petri",
    "Sami",
    "Timo",
    "Ville",
    "Jouni",
    "Heikki",
    "Antti",
    "Juha",
    "Tuomas",
    "Ilkka",
    "Matti",
    "Outi",
]
LAST_NAMES = [
    "Heikkinen",
    "Karjalainen",
    "Kemppainen",
    "Kinnunen",
    "Komulainen",
    "Korhonen",
    "Leinonen",
    "Moilanen",
    "Pulkkinen",
    "Pääkkönen",
    "Rimpiläinen",
    "Ryynänen",
    "Seppänen",
    "Tolonen",
    "Tervonen",
    "Huttunen",
    "Kyllönen",
    "Mustonen",
    "Oikarinen",
    "Piirainen",
    "Väisänen",
    "Heikura",
    "Kilpeläinen",
    "Juntunen",
]

# Site templates: (organisation kind, organisation name pattern, site name, task areas,
# physical demand, social intensity, opening types, description).
# {town} is the town's name, {gen} its genitive.
TEMPLATES = [
    (
        "association",
        "{gen} Seudun Kierrätysyhdistys ry",
        "Kierrätyskeskus Kiertokulku",
        ["recycling", "retail", "warehouse_logistics", "carpentry"],
        "moderate",
        "medium",
        ["rehabilitative_work", "work_trial", "pay_subsidy"],
        "Kierrätyskeskus vastaanottaa, lajittelee, korjaa ja myy käytettyä tavaraa.",
    ),
    (
        "municipality",
        "{gen} {unit}, työllisyyspalvelut",
        "Työpaja Verstas",
        ["carpentry", "metalwork", "property_maintenance"],
        "moderate",
        "low",
        ["rehabilitative_work", "work_trial"],
        "Puu- ja metallitöiden työpaja, jossa tehdään pienkorjauksia ja tilaustöitä.",
    ),
    (
        "wellbeing_county",
        "Kainuun hyvinvointialue",
        "Työtoimintakeskus Tupa",
        ["crafts_textiles", "office", "kitchen"],
        "light",
        "low",
        ["rehabilitative_work"],
        "Matalan kynnyksen työtoimintaa pienissä ryhmissä ohjaajan tuella.",
    ),
    (
        "parish",
        "{gen} seurakunta",
        "Seurakuntakeskuksen keittiö ja kahvio",
        ["kitchen", "cafe_service", "cleaning"],
        "moderate",
        "medium",
        ["rehabilitative_work", "work_trial"],
        "Lounas- ja tilaisuuskeittiö sekä kahvio, jossa työskennellään työparina.",
    ),
    (
        "social_enterprise",
        "{gen} Puhtauspalvelu Oy",
        "Puhtauspalvelun tukikohta",
        ["cleaning", "laundry", "property_maintenance"],
        "moderate",
        "low",
        ["work_trial", "pay_subsidy", "ips_job"],
        "Siivous- ja kiinteistöpalveluja yrityksille ja kotitalouksille.",
    ),
    (
        "foundation",
        "Kainuun Työ- ja Toimintasäätiö sr",
        "Puutarha ja viherpalvelut",
        ["gardening", "forestry", "animal_care"],
        "heavy",
        "low",
        ["rehabilitative_work", "work_trial", "pay_subsidy"],
        "Kasvihuone, avomaan viljelyä ja viheralueiden hoitoa; talvisin lumitöitä.",
    ),
    (
        "association",
        "{gen} Työttömät ry",
        "Yhdistyksen olohuone ja kahvila",
        ["cafe_service", "kitchen", "office"],
        "light",
        "high",
        ["rehabilitative_work", "work_trial"],
        "Kohtaamispaikka, jossa pyöritetään kahvilaa ja järjestetään tapahtumia.",
    ),
    (
        "employer",
        "{gen} Rauta ja Piha Oy",
        "Rautakauppa ja varasto",
        ["retail", "warehouse_logistics"],
        "moderate",
        "high",
        ["ips_job", "work_trial"],
        "Tavallinen rautakauppa, jossa on myymälä- ja varastotöitä.",
    ),
    (
        "employer",
        "Kainuun Kotihoivapalvelu Oy",
        "Palvelukoti Kuusikko",
        ["care_assistance", "kitchen", "cleaning"],
        "moderate",
        "high",
        ["ips_job", "pay_subsidy", "work_trial"],
        "Ikäihmisten palvelukoti, jossa avustetaan arjen askareissa ja ulkoilussa.",
    ),
    (
        "company",
        "{gen} Tietotuki Oy",
        "IT-huolto ja tuki",
        ["it_support", "office"],
        "light",
        "medium",
        ["work_trial", "pay_subsidy", "ips_job"],
        "Tietokoneiden kunnostusta, tietojen poistoa ja käyttötukea.",
    ),
    (
        "employer",
        "Kainuun Kuljetus ja Logistiikka Oy",
        "Terminaali",
        ["transport", "warehouse_logistics"],
        "heavy",
        "medium",
        ["ips_job", "pay_subsidy"],
        "Kappaletavaraterminaali ja jakeluautot; työtä aamuvuorossa.",
    ),
    (
        "company",
        "{gen} Rakennus ja Remontti Oy",
        "Korjausrakentamisen työmaa",
        ["construction", "carpentry", "property_maintenance"],
        "heavy",
        "low",
        ["pay_subsidy", "work_trial", "ips_job"],
        "Pienten korjaus- ja remonttikohteiden työmaa.",
    ),
    (
        "association",
        "{gen} Eläinsuojeluyhdistys ry",
        "Eläinten hoitola",
        ["animal_care", "cleaning"],
        "moderate",
        "low",
        ["rehabilitative_work", "work_trial"],
        "Löytöeläinten hoitola: ruokintaa, ulkoilutusta ja tilojen puhtaanapitoa.",
    ),
    (
        "social_enterprise",
        "Kainuun Pyykki ja Tekstiili Oy",
        "Pesula",
        ["laundry", "crafts_textiles"],
        "moderate",
        "low",
        ["rehabilitative_work", "pay_subsidy", "ips_job"],
        "Pesula ja ompelimo, joka palvelee hoivakoteja ja yrityksiä.",
    ),
]
# Municipality-specific names make each organisation distinct; shared names are regional.
LANGUAGE_SETS = [["fi"]] * 12 + [["en", "fi"]] * 4 + [["fi", "ru"]] * 2 + [["ar", "fi"]] + [["en", "fi", "sv"]]
ACCESS_WEIGHTS = {
    "step_free_access": 0.6,
    "accessible_toilet": 0.45,
    "elevator": 0.2,
    "accessible_parking": 0.5,
    "induction_loop": 0.1,
    "quiet_space": 0.35,
}
SUPPORT_WEIGHTS = {
    "work_instructor": 0.7,
    "job_coach": 0.3,
    "peer_support": 0.3,
    "language_support": 0.1,
    "gradual_start": 0.45,
    "meal_provided": 0.5,
}
# An opening's title is its main task in plain words ("Keittiötyöt"); the type is a field of its
# own and every page shows it beside the title, so a title never repeats it.
TASK_WORDS = {
    "kitchen": "keittiötyöt",
    "cafe_service": "kahvila ja asiakaspalvelu",
    "cleaning": "siivous",
    "laundry": "pesulatyöt",
    "recycling": "kierrätys ja lajittelu",
    "carpentry": "puutyöt",
    "metalwork": "metallityöt",
    "crafts_textiles": "käsityöt ja tekstiilit",
    "gardening": "puutarhatyöt",
    "forestry": "metsätyöt",
    "property_maintenance": "kiinteistönhoito",
    "warehouse_logistics": "varasto ja logistiikka",
    "retail": "myymälätyö",
    "office": "toimistotyöt",
    "it_support": "IT-tuki",
    "care_assistance": "hoiva-avustajan työt",
    "animal_care": "eläintenhoito",
    "construction": "rakennustyöt",
    "transport": "kuljetus",
}


def opening_title(task: str) -> str:
    """The title of an opening whose main task area is ``task``: "Keittiötyöt", "IT-tuki"."""
    words = TASK_WORDS[task]
    return words[:1].upper() + words[1:]


def _schedule(rng: random.Random, opening_type: str) -> tuple[int, int, float, float]:
    if opening_type == "rehabilitative_work":
        low = rng.choice([1, 2, 2, 3])
        return low, rng.randint(max(low, 2), 4), 4, rng.choice([4, 5, 6, 6])
    if opening_type == "work_trial":
        low = rng.choice([2, 3, 4])
        return low, 5, rng.choice([4, 4, 5]), rng.choice([6, 7, 7.5])
    if opening_type == "pay_subsidy":
        return rng.choice([4, 5]), 5, rng.choice([5, 6]), rng.choice([7.5, 8])
    low = rng.choice([2, 3, 5])
    return low, 5, rng.choice([3, 4, 4.5]), rng.choice([6, 8])


def _places(rng: random.Random, opening_type: str) -> int:
    return {
        "rehabilitative_work": rng.choice([3, 4, 5, 6, 8, 10, 12]),
        "work_trial": rng.choice([1, 1, 2, 2, 3]),
        "pay_subsidy": rng.choice([1, 1, 2, 3, 4]),
        "ips_job": 1,
    }[opening_type]


def _near(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    distance = km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / 111.2
    dlon = distance * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _person(rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}".lower().translate(str.maketrans("äöå", "aoa")) + "@example.fi"
    phone = f"040 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    return f"{first} {last}", phone, email


def _centres() -> dict[str, tuple[float, float]]:
    with open(ROOT / "data" / "kainuu_municipalities.csv", encoding="utf-8") as stream:
        return {r["code"]: (float(r["centre_lat"]), float(r["centre_lon"])) for r in csv.DictReader(stream)}


def scaled_counts(sites: int) -> dict[str, int]:
    """``sites`` sites spread over the municipalities in the sample data's proportions."""
    total = sum(KAINUU_SITES.values())
    counts = {code: max(1, sites * count // total) for code, count in KAINUU_SITES.items()}
    counts["205"] += sites - sum(counts.values())
    return counts


def kainuu_rows(seed: int, today: date, sites: int | None = None) -> list[dict[str, object]]:
    """The sample data: every municipality, opening type and task area; with ``sites``,
    that many sites in the same proportions (about 1.9 rows per site)."""
    rng = random.Random(seed)
    centres = _centres()
    rows: list[dict[str, object]] = []
    template_cycle = 0
    for municipality, count in (scaled_counts(sites) if sites else KAINUU_SITES).items():
        town, gen = TOWN[municipality]
        used_names: dict[str, int] = {}
        for index in range(count):
            template = TEMPLATES[template_cycle % len(TEMPLATES)]
            template_cycle += 1
            kind, org_pattern, site_name, tasks, demand, social, types, description = template
            organisation = org_pattern.format(
                town=town, gen=gen, unit="kaupunki" if municipality in CITIES else "kunta"
            )
            used_names[site_name] = used_names.get(site_name, 0) + 1
            name = (
                f"{site_name}, {town}" if used_names[site_name] == 1 else f"{site_name} {used_names[site_name]}, {town}"
            )
            site_ref = f"KAI-{municipality}-{index + 1:03d}"
            in_village = index % 5 == 4
            if in_village:
                postal_code = rng.choice(VILLAGE_POSTAL_CODES[municipality])
                latitude = longitude = ""
            else:
                postal_code = rng.choice(CENTRE_POSTAL_CODES[municipality])
                latitude, longitude = _near(rng, *centres[municipality], km=2.5 if municipality == "205" else 1.5)
            access = [code for code, weight in ACCESS_WEIGHTS.items() if rng.random() < weight]
            if not in_village and rng.random() < 0.7:
                access.append("public_transport_nearby")
            contact_name, phone, email = _person(rng)
            street_address = f"{rng.choice(STREETS)} {rng.randint(1, 60)}"
            n_openings = rng.choice([1, 2, 2, 3])
            chosen_types = types[:n_openings] if index % 2 == 0 else list(reversed(types))[:n_openings]
            languages = rng.choice(LANGUAGE_SETS)
            for opening_type in chosen_types:
                task_sample = rng.sample(tasks, k=min(len(tasks), rng.choice([1, 2, 2, 3])))
                days_min, days_max, hours_min, hours_max = _schedule(rng, opening_type)
                total = _places(rng, opening_type)
                roll = rng.random()
                external = total if roll < 0.1 else (rng.randint(0, total // 2) if roll < 0.45 else 0)
                supports = [code for code, weight in SUPPORT_WEIGHTS.items() if rng.random() < weight]
                if opening_type == "ips_job" and "job_coach" not in supports:
                    supports.append("job_coach")
                status = "paused" if rng.random() < 0.06 else "open"
                stale = rng.random() < 0.12
                rows.append(
                    {
                        "site_ref": site_ref,
                        "organisation": organisation,
                        "organisation_kind": kind,
                        "site_name": name,
                        "street_address": street_address,
                        "postal_code": postal_code,
                        "municipality_code": municipality,
                        "latitude": latitude,
                        "longitude": longitude,
                        "accessibility": "|".join(sorted(access)),
                        "contact_name": contact_name,
                        "contact_phone": phone,
                        "contact_email": email,
                        "opening_type": opening_type,
                        "opening_title": opening_title(task_sample[0]),
                        "task_areas": "|".join(sorted(task_sample)),
                        "days_per_week_min": days_min,
                        "days_per_week_max": days_max,
                        "hours_per_day_min": hours_min,
                        "hours_per_day_max": hours_max,
                        "places_total": total,
                        "places_external": external,
                        "supports": "|".join(sorted(supports)),
                        "physical_demand": demand,
                        "social_intensity": social,
                        "languages": "|".join(languages),
                        "status": status,
                        "description": description,
                        "last_confirmed": (today - timedelta(days=rng.randint(75, 240))).isoformat() if stale else "",
                    }
                )
    return rows


def write(rows: list[dict[str, object]], stream) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS + OPTIONAL_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in COLUMNS + OPTIONAL_COLUMNS])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kainuu", action="store_true", help="the sample data set (the default)")
    parser.add_argument("--sites", type=int, default=None, help="this many sites instead (about 1.9 rows each)")
    parser.add_argument("--rows", type=int, default=None, help="stop after this many rows")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--today", type=date.fromisoformat, default=date(2026, 11, 27), help="reference date for stale openings"
    )
    args = parser.parse_args()
    buffer = io.StringIO()
    rows = kainuu_rows(args.seed, args.today, sites=args.sites)
    write(rows[: args.rows] if args.rows else rows, buffer)
    sys.stdout.write(buffer.getvalue())


if __name__ == "__main__":
    main()
