"""Text cleaning: tables of real French newsroom input and the text that gets indexed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from index.cleaning import clean_paragraphs, clean_text, html_to_text, parse_datetime


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Casablanca &amp; Rabat", "Casablanca & Rabat"),
        ("L&#8217;économie &laquo;&nbsp;résiste&nbsp;&raquo;", "L’économie « résiste »"),
        ("  Tanger\u00a0Med   :\tle  port\n du détroit ", "Tanger Med : le port du détroit"),
        ("Croissance de 3,5\u202f% en 2024", "Croissance de 3,5 % en 2024"),
        ("Fe\u0300s et Mekne\u0300s", "Fès et Meknès"),  # NFD from a Mac keyboard -> NFC
        ("déve\u00adloppement durable", "développement durable"),  # soft hyphen
        ("\ufeffMaroc\u200b-France", "Maroc-France"),
        ("Premier paragraphe.\n\nSecond.", "Premier paragraphe. Second."),
        ("Rabat\x07 en\x00 bref", "Rabat en bref"),
        ("   ", ""),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Le port avance.\n\nLes   travaux  reprennent.",
         "Le port avance.\n\nLes travaux reprennent."),
        ("Une ligne coupée\nau milieu.\n\n\n\nLa suite.",
         "Une ligne coupée au milieu.\n\nLa suite."),
        ("\r\n\r\nTexte saisi sous Windows.\r\n\r\nFin.\r\n", "Texte saisi sous Windows.\n\nFin."),
        ("Oujda\n \t \nBerkane", "Oujda\n\nBerkane"),
        ("\u00a0Le ministre a tranché.\n\n\u00a0", "Le ministre a tranché."),
        ("L&rsquo;ONMT\n\nS&amp;P relève la note", "L’ONMT\n\nS&P relève la note"),
        ("  \n\n  ", ""),
    ],
)
def test_clean_paragraphs(raw: str, expected: str) -> None:
    assert clean_paragraphs(raw) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Le <strong>Maroc</strong> accélère.</p><p>Deuxième paragraphe.</p>",
         "Le Maroc accélère.\n\nDeuxième paragraphe."),
        ("Lire <a href='/communique'>le communiqué</a> du ministère",
         "Lire le communiqué du ministère"),
        ("Première ligne<br />Deuxième ligne<br>Troisième",
         "Première ligne\n\nDeuxième ligne\n\nTroisième"),
        ("<h2>Des priorités</h2>Trois axes dominent :<ul><li>l’eau ;</li><li>les routes.</li></ul>",
         "Des priorités\n\nTrois axes dominent :\n\nl’eau ;\n\nles routes."),
        ("<blockquote>« Nous tiendrons les délais »</blockquote>a-t-il déclaré.",
         "« Nous tiendrons les délais »\n\na-t-il déclaré."),
        ("l&rsquo;ONU &amp; l&#8217;UE saluent l&#x2019;accord", "l’ONU & l’UE saluent l’accord"),
        ("<p>Texte.</p><script>var pub = '<p>pub</p>';</script><style>p{color:red}</style>Fin.",
         "Texte.\n\nFin."),
        # WordPress stores editor paragraphs as blank lines, without <p>.
        ("La 25<sup>e</sup> édition s’ouvre ce soir.\n\nLes maâlems sont arrivés.",
         "La 25e édition s’ouvre ce soir.\n\nLes maâlems sont arrivés."),
        ('[caption id="attachment_55" align="aligncenter" width="800"]<img src="a.jpg" /> '
         "Le terminal de Tanger Med II.[/caption]<p>Suite.</p>",
         "Le terminal de Tanger Med II.\n\nSuite."),
        ("<p>Avant.</p>[embed]https://www.youtube.com/watch?v=abc[/embed]<p>Après.</p>",
         "Avant.\n\nAprès."),
        ('<p>Photos :</p>[gallery ids="60,61,62" columns="3"]', "Photos :"),
        ("[pullquote]Le dirham reste stable[/pullquote] selon BAM.",
         "Le dirham reste stable selon BAM."),
        ('Écrivez-nous. [contact-form-7 id="12" title="Contact"]', "Écrivez-nous."),
        # Square brackets that are French punctuation, not shortcodes, stay.
        ("une décision « incompréhensible [sic] »", "une décision « incompréhensible [sic] »"),
        ("« Il [le wali] a reçu les élus »", "« Il [le wali] a reçu les élus »"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-15T10:30:00+01:00", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
        ("2020-07-02T19:09:00+02:00", datetime(2020, 7, 2, 17, 9, tzinfo=UTC)),
        ("2024-03-05T18:15:00-04:00", datetime(2024, 3, 5, 22, 15, tzinfo=UTC)),
        ("2023-12-31T23:30:00-01:00", datetime(2024, 1, 1, 0, 30, tzinfo=UTC)),
        ("2024-03-04T09:00:00Z", datetime(2024, 3, 4, 9, 0, tzinfo=UTC)),
        ("2024-01-15T10:30:00.250+01:00", datetime(2024, 1, 15, 9, 30, 0, 250000, tzinfo=UTC)),
        ("2012-01-27 10:00:00", datetime(2012, 1, 27, 10, 0, tzinfo=UTC)),
        ("2012-01-27T10:00", datetime(2012, 1, 27, 10, 0, tzinfo=UTC)),
        ("2023-09-11", datetime(2023, 9, 11, tzinfo=UTC)),
        (" 2023-09-11 ", datetime(2023, 9, 11, tzinfo=UTC)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    value = parse_datetime(text)
    assert value == expected
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["27/01/2012", "15 janvier 2024", "hier", "", "2012-13-45", "2024-02-30",
     "0000-00-00 00:00:00", "20120127", "2012-W05", "2024-01-15T25:00:00"],
)
def test_parse_datetime_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"^cannot parse date '.*' \(expected ISO 8601, e\.g\. "):
        parse_datetime(text)
