{#- Layers live in fixed schemas (staging, intermediate, marts, candidate) so that roles
    and grants can name them; dbt's default would prefix the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
