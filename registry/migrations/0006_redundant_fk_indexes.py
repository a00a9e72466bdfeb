"""Drop the foreign keys' own indexes where another index already serves them (equality and
prefix lookups on village_id: elder_village_prefix, elder_register_order, guardian_village_prefix;
elder_id: elder_guardian_unique). Each cost every census insert.

Written by hand: for ElderGuardian.elder, AlterField(db_index=False) drops every index on the
column alone, which would take the partial unique index elder_one_primary_guardian with it.
"""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = {
    "registry_elder_village_id_e5145fa9": 'ON "registry_elder" ("village_id")',
    "registry_elder_village_id_e5145fa9_like": 'ON "registry_elder" ("village_id" varchar_pattern_ops)',
    "registry_guardian_village_id_ba6e97db": 'ON "registry_guardian" ("village_id")',
    "registry_guardian_village_id_ba6e97db_like": 'ON "registry_guardian" ("village_id" varchar_pattern_ops)',
    "registry_elderguardian_elder_id_7c46e99a": 'ON "registry_elderguardian" ("elder_id")',
}


class Migration(migrations.Migration):

    dependencies = [
        ('eldercare', '0003_set_wise_history'),
        ('registry', '0005_set_wise_history'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" {target}')
                for name, target in DROPPED.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='elder',
                    name='village',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='elders', to='eldercare.area', verbose_name='村(社区)'),
                ),
                migrations.AlterField(
                    model_name='elderguardian',
                    name='elder',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='guardian_links', to='registry.elder', verbose_name='老人'),
                ),
                migrations.AlterField(
                    model_name='guardian',
                    name='village',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='guardians', to='eldercare.area', verbose_name='登记村'),
                ),
            ],
        ),
    ]
