"""Synthetic French news articles for the tests that need an index of a few thousand articles.

The text is made up here, from a small vocabulary of Moroccan francophone news, by a seeded
random generator: the same ``count`` and ``seed`` always give the same articles, so the hostile
query, escaping, load and crash tests are reproducible without storing a corpus in the repo.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SECTIONS = ("Économie", "Politique", "Société", "Sport", "Culture", "Régions", "Monde")
TAGS = (
    "agriculture",
    "banques",
    "énergie",
    "football",
    "tourisme",
    "éducation",
    "santé",
    "emploi",
    "climat",
    "transport",
    "justice",
    "cinéma",
    "musique",
    "ports",
)
CITIES = (
    "Rabat",
    "Casablanca",
    "Fès",
    "Marrakech",
    "Tanger",
    "Agadir",
    "Oujda",
    "Meknès",
    "Laâyoune",
    "Dakhla",
    "Tétouan",
    "Safi",
    "Essaouira",
    "Ouarzazate",
    "Kénitra",
)
SUBJECTS = (
    "le gouvernement",
    "la banque centrale",
    "le ministère de l’Économie",
    "l’Office chérifien des phosphates",
    "la fédération de football",
    "les agriculteurs",
    "les syndicats",
    "le conseil régional",
    "les investisseurs étrangers",
    "l’Agence nationale des ports",
    "les associations de quartier",
    "les étudiants",
    "la commune urbaine",
    "les exportateurs",
    "le Haut-Commissariat au Plan",
)
VERBS = (
    "annonce",
    "prépare",
    "lance",
    "finance",
    "conteste",
    "évalue",
    "accélère",
    "suspend",
    "inaugure",
    "présente",
    "réforme",
    "soutient",
    "critique",
    "prolonge",
    "relance",
)
OBJECTS = (
    "un plan de développement économique",
    "la réforme des retraites",
    "un programme d’irrigation",
    "la construction d’une nouvelle autoroute",
    "la modernisation du port",
    "une campagne de vaccination",
    "le budget de l’éducation",
    "un festival de musique andalouse",
    "la saison des pluies",
    "la hausse des prix",
    "le chantier de la ligne à grande vitesse",
    "un accord de libre-échange",
    "la stratégie énergétique",
    "les exportations d’agrumes",
    "le tourisme rural",
    "la transition numérique",
    "la sécurité routière",
    "le marché de l’emploi",
    "la protection des nappes phréatiques",
    "l’équipe nationale",
)
DETAILS = (
    "selon les chiffres publiés mardi",
    "malgré la sécheresse",
    "à l’approche de l’été",
    "après des mois de négociations",
    "dans un contexte d’inflation",
    "avec le soutien de partenaires européens",
    "pour la troisième année consécutive",
    "au grand dam des opposants",
    "dans les provinces du Sud",
    "sous le regard des experts",
    "d’ici à la fin de l’année",
    "avec un budget de 3,5 milliards de dirhams",
)
CLOSERS = (
    "Les détails seront présentés lors d’une conférence de presse.",
    "Les observateurs restent prudents.",
    "Le calendrier reste à préciser.",
    "Plusieurs élus ont salué l’initiative.",
    "La société civile demande plus de clarté.",
    "Les premiers résultats sont attendus en septembre.",
)


def _sentence(rng: random.Random) -> str:
    sentence = (
        f"À {rng.choice(CITIES)}, {rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
        f"{rng.choice(OBJECTS)} {rng.choice(DETAILS)}."
    )
    return sentence[0].upper() + sentence[1:]


def article(i: int, rng: random.Random) -> dict[str, Any]:
    """One made-up article; ``i`` makes its id."""
    title = (
        f"{rng.choice(CITIES)} : {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    )
    body = " ".join([_sentence(rng) for _ in range(rng.randint(4, 9))] + [rng.choice(CLOSERS)])
    year, month, day = rng.randint(2012, 2024), rng.randint(1, 12), rng.randint(1, 28)
    return {
        "id": f"syn-{i:05d}",
        "title": title[0].upper() + title[1:],
        "summary": _sentence(rng),
        "body": body,
        "section": rng.choice(SECTIONS),
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "published": f"{year}-{month:02d}-{day:02d}T{rng.randint(6, 22):02d}:00:00+01:00",
        "author": rng.choice(("Rédaction", "Amina B.", "Karim L.", "Salma E.", "Youssef T.")),
        "url": f"https://www.exemple.ma/article/syn-{i:05d}",
    }


def articles(count: int, seed: int = 6, start: int = 0) -> Iterator[dict[str, Any]]:
    """``count`` made-up articles, ids ``syn-<start>`` onwards; reproducible for a ``seed``."""
    rng = random.Random(seed)
    for i in range(start, start + count):
        yield article(i, rng)


def write_jsonl(path: Path, records: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> Path:
    """Write ``records`` as JSON Lines to ``path`` and return it."""
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
