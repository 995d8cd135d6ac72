"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models import Base, create_schema, make_engine, schema_revision


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    create_schema(engine)
    current, head = schema_revision(engine)
    assert current == head
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_twice_is_harmless(database_url):
    engine = make_engine(database_url)
    create_schema(engine)
    create_schema(engine)
    assert schema_revision(engine)[0] == schema_revision(engine)[1]
    engine.dispose()
