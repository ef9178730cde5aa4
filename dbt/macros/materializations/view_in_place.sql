{#-
  Views are replaced in place (CREATE OR REPLACE VIEW), not swapped.

  dbt's default view materialisation builds `<model>__dbt_tmp`, renames the old view away and
  drops it with CASCADE. PostgreSQL binds a view to the relations it reads, so that CASCADE
  also drops every view built on the old one: readers get "relation does not exist" until the
  run reaches those views again, and after a crash at that moment until the next build
  (reliability case B2). CREATE OR REPLACE keeps the view's identity, so its dependants, its
  grants and readers' plans stay valid, and the new definition appears atomically at commit.

  PostgreSQL refuses the in-place replacement only when a column is dropped, renamed or
  retyped (SQLSTATE 42P16): that is a schema change, and then the view is dropped and created
  again in the same transaction. Its dependants go with it, as they must (they were written
  against the old columns), and are recreated by the same run, which builds them later.
-#}
{%- materialization view, adapter='postgres' -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set grant_config = config.get('grants') -%}
  {#- leftovers of dbt's swap (a crash between its rename and its drop) go first -#}
  {%- set leftovers = [
      make_intermediate_relation(target_relation),
      make_backup_relation(target_relation, 'view'),
  ] -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {%- for leftover in leftovers %}
    {{ drop_relation_if_exists(load_cached_relation(leftover)) }}
  {%- endfor %}

  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if existing_relation is not none and not existing_relation.is_view %}
    {#- the model was a table before: nothing to keep in place -#}
    {{ drop_relation_if_exists(existing_relation) }}
  {%- endif %}

  {% call statement('main') -%}
    {{ sqwh_create_or_replace_view(target_relation, sql) }}
  {%- endcall %}

  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh_mode=True)) %}
  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization -%}


{#- One statement: replace in place, or (schema change) drop and create, in one transaction.
    The view's query is dollar-quoted inside the DO block, so it is run exactly as compiled. -#}
{% macro sqwh_create_or_replace_view(relation, sql) -%}
  {%- set contract = config.get('contract') -%}
  {%- if contract and contract.enforced -%}
    {{ get_assert_columns_equivalent(sql) }}
  {%- endif -%}
  {%- set tag, outer = '$sqwh_view$', '$sqwh_do$' -%}
  {%- if tag in sql or outer in sql -%}
    {{ exceptions.raise_compiler_error(relation ~ ': the view query contains ' ~ tag ~ ' or ' ~ outer) }}
  {%- endif %}
do {{ outer }}
begin
    execute {{ tag }}create or replace view {{ relation }} as (
{{ sql }}
){{ tag }};
exception when invalid_table_definition then
    raise notice '%: columns changed (%); dropping and recreating the view and its dependants',
        {{ dbt.string_literal(relation) }}, sqlerrm;
    execute {{ tag }}drop view if exists {{ relation }} cascade{{ tag }};
    execute {{ tag }}create view {{ relation }} as (
{{ sql }}
){{ tag }};
end
{{ outer }}
{%- endmacro %}
