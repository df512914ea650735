"""Load the eight Kainuu municipalities and the region's postal codes.

Source: data/kainuu_municipalities.csv and data/kainuu_postcodes.csv (see data/README.md).
The rows are written out here so that the migration never changes with those files.

Revision ID: 5a1c0e7d2b90
Revises: ddcbc0d68e10
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa

revision = "5a1c0e7d2b90"
down_revision = "ddcbc0d68e10"
branch_labels = None
depends_on = None

MUNICIPALITIES = [
    ("205", "Kajaani", "Kajana", 64.2222, 27.7278),
    ("765", "Sotkamo", "Sotkamo", 64.1333, 28.3833),
    ("290", "Kuhmo", "Kuhmo", 64.1250, 29.5186),
    ("777", "Suomussalmi", "Suomussalmi", 64.8883, 28.8983),
    ("620", "Puolanka", "Puolanka", 64.8681, 27.6717),
    ("578", "Paltamo", "Paltamo", 64.4050, 27.8333),
    ("697", "Ristijärvi", "Ristijärvi", 64.5050, 28.2150),
    ("105", "Hyrynsalmi", "Hyrynsalmi", 64.6767, 28.4944),
]

# (code, name, type_code, municipality_code)
POSTAL_CODES = [
    ("74390", "Laakajärvi", 1, "765"),
    ("87070", "Kainuu", 3, "205"),
    ("87100", "Kajaani", 1, "205"),
    ("87101", "Kajaani", 2, "205"),
    ("87104", "Smartpost", 6, "205"),
    ("87105", "Pakettiautomaatti", 6, "205"),
    ("87150", "Kajaani", 1, "205"),
    ("87200", "Kajaani", 1, "205"),
    ("87204", "Smartpost", 6, "205"),
    ("87250", "Kajaani", 1, "205"),
    ("87254", "Smartpost", 6, "205"),
    ("87300", "Kajaani", 1, "205"),
    ("87400", "Kajaani", 1, "205"),
    ("87401", "Kajaani", 2, "205"),
    ("87404", "Smartpost", 6, "205"),
    ("87500", "Kajaani", 1, "205"),
    ("87504", "Smartpost", 6, "205"),
    ("87601", "Kajaani", 2, "205"),
    ("87700", "Kajaani", 1, "205"),
    ("87704", "Smartpost", 6, "205"),
    ("87705", "Pakettiautomaatti", 6, "205"),
    ("87788", "S-Ryhmä", 3, "205"),
    ("87800", "Kajaani", 1, "205"),
    ("87830", "Nakertaja", 1, "205"),
    ("87850", "Paltaniemi", 1, "205"),
    ("87900", "Kajaani", 1, "205"),
    ("87910", "Linnantaus", 1, "205"),
    ("87930", "Salmijärvi", 1, "205"),
    ("87950", "Kuluntalahti", 1, "205"),
    ("87970", "Jormua", 1, "205"),
    ("88120", "Tuhkakylä", 1, "765"),
    ("88200", "Otanmäki", 1, "205"),
    ("88201", "Otanmäki", 2, "205"),
    ("88270", "Vuolijoki", 1, "205"),
    ("88274", "Smartpost", 6, "205"),
    ("88300", "Paltamo", 1, "578"),
    ("88304", "Smartpost", 6, "578"),
    ("88310", "Melalahti", 1, "578"),
    ("88350", "Kivesjärvi", 1, "578"),
    ("88380", "Mieslahti", 1, "578"),
    ("88400", "Ristijärvi", 1, "697"),
    ("88401", "Ristijärvi", 2, "697"),
    ("88440", "Jokikylä", 1, "697"),
    ("88460", "Hiisijärvi", 1, "697"),
    ("88470", "Kontiomäki", 1, "578"),
    ("88474", "Smartpost", 6, "578"),
    ("88490", "Pohjavaara", 1, "765"),
    ("88530", "Paakki", 1, "765"),
    ("88600", "Sotkamo", 1, "765"),
    ("88601", "Sotkamo", 2, "765"),
    ("88604", "Smartpost", 6, "765"),
    ("88610", "Vuokatti", 1, "765"),
    ("88614", "Smartpost", 6, "765"),
    ("88620", "Korholanmäki", 1, "765"),
    ("88640", "Ontojoki", 1, "765"),
    ("88670", "Juurikkalahti", 1, "765"),
    ("88690", "Maanselkä", 1, "765"),
    ("88730", "Ylä-Vieksi", 1, "290"),
    ("88740", "Härmänkylä", 1, "290"),
    ("88760", "Iivantiira", 1, "290"),
    ("88900", "Kuhmo", 1, "290"),
    ("88901", "Kuhmo", 2, "290"),
    ("88904", "Smartpost", 6, "290"),
    ("88905", "Pakettiautomaatti", 6, "290"),
    ("88930", "Lentiira", 1, "290"),
    ("88940", "Kuumu", 1, "290"),
    ("89110", "Törmänmäki", 1, "620"),
    ("89140", "Kotila", 1, "620"),
    ("89200", "Puolanka", 1, "620"),
    ("89201", "Puolanka", 2, "620"),
    ("89204", "Smartpost", 6, "620"),
    ("89210", "Puokiovaara", 1, "620"),
    ("89320", "Joukokylä", 1, "620"),
    ("89330", "Suolijärvi", 1, "620"),
    ("89400", "Hyrynsalmi", 1, "105"),
    ("89401", "Hyrynsalmi", 2, "105"),
    ("89404", "Smartpost", 6, "105"),
    ("89430", "Hoikka", 1, "105"),
    ("89440", "Sakara", 1, "777"),
    ("89540", "Moisiovaara", 1, "105"),
    ("89560", "Karhuvaara", 1, "105"),
    ("89600", "Suomussalmi", 1, "777"),
    ("89601", "Suomussalmi", 2, "777"),
    ("89604", "Smartpost", 6, "777"),
    ("89605", "Pakettiautomaatti", 6, "777"),
    ("89610", "Jumaliskylä", 1, "777"),
    ("89640", "Pesiökylä", 1, "777"),
    ("89660", "Takalo", 1, "777"),
    ("89670", "Näljänkä", 1, "777"),
    ("89680", "Vaaranniva", 1, "777"),
    ("89730", "Ahjola", 1, "777"),
    ("89740", "Kianta", 1, "777"),
    ("89760", "Piispajärvi", 1, "777"),
    ("89770", "Peranka", 1, "777"),
    ("89780", "Kaikkonen", 1, "777"),
    ("89800", "Suomussalmi Kk", 1, "777"),
    ("89830", "Ala-Vuokki", 1, "777"),
    ("89840", "Yli-Vuokki", 1, "777"),
    ("89920", "Ruhtinansalmi", 1, "777"),
]


municipalities = sa.table(
    "municipalities",
    sa.column("code", sa.String),
    sa.column("name_fi", sa.String),
    sa.column("name_sv", sa.String),
    sa.column("centre_lat", sa.Float),
    sa.column("centre_lon", sa.Float),
)
postal_codes = sa.table(
    "postal_codes",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("type_code", sa.Integer),
    sa.column("municipality_code", sa.String),
)


def upgrade():
    op.bulk_insert(
        municipalities,
        [dict(zip(("code", "name_fi", "name_sv", "centre_lat", "centre_lon"), row)) for row in MUNICIPALITIES],
    )
    op.bulk_insert(
        postal_codes,
        [dict(zip(("code", "name", "type_code", "municipality_code"), row)) for row in POSTAL_CODES],
    )


def downgrade():
    op.execute(postal_codes.delete())
    op.execute(municipalities.delete())
