{#- The half year of the run, from var('period') such as 2019H1: bounds as timestamptz in
    Asia/Shanghai, so the boundary holds whatever the server TimeZone. -#}
{% macro period_code() -%}
    {%- set p = var('period') | string | upper -%}
    {%- if not modules.re.match('^[0-9]{4}H[12]$', p) -%}
        {{ exceptions.raise_compiler_error("var period must look like 2019H1, got " ~ p) }}
    {%- endif -%}
    {{ p }}
{%- endmacro %}

{% macro _period_first_day(offset_halves=0) -%}
    {%- set p = period_code() -%}
    {%- set idx = (p[:4] | int) * 2 + (p[5:] | int) - 1 + offset_halves -%}
    {%- set year = idx // 2 -%}
    {%- set month = 1 if idx % 2 == 0 else 7 -%}
    {{ '%04d-%02d-01' % (year, month) }}
{%- endmacro %}

{% macro period_start() -%}
    timestamptz '{{ _period_first_day(0) }} 00:00:00 {{ var("timezone") }}'
{%- endmacro %}

{% macro period_end() -%}
    timestamptz '{{ _period_first_day(1) }} 00:00:00 {{ var("timezone") }}'
{%- endmacro %}

{% macro period_last_day() -%}
    (date '{{ _period_first_day(1) }}' - 1)
{%- endmacro %}

{% macro previous_period_code() -%}
    {%- set p = period_code() -%}
    {%- if p[5:] == '2' -%}{{ p[:4] }}H1{%- else -%}{{ (p[:4] | int) - 1 }}H2{%- endif -%}
{%- endmacro %}

{#- Months of the period as 'YYYYMM' text, e.g. for bill_month filters. -#}
{% macro period_months() -%}
    {%- set first = _period_first_day(0) -%}
    {%- set year = first[:4] | int -%}
    {%- set m0 = first[5:7] | int -%}
    ({% for m in range(m0, m0 + 6) %}'{{ '%04d%02d' % (year, m) }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- Local calendar day of a timestamptz. -#}
{% macro local_date(column) -%}
    ({{ column }} at time zone '{{ var("timezone") }}')::date
{%- endmacro %}

{#- Snapshot entities: the latest delivered snapshot on or before the period's last day
    (else the latest delivered at all); its dates say what was true on the last day. -#}
{% macro period_snapshot_filter(relation) -%}
    snapshot_date = {{ period_snapshot_date(relation) }}
{%- endmacro %}

{#- The snapshot date period_snapshot_filter() selects, as a scalar expression (two plain
    max() subqueries: an index that starts with snapshot_date answers each from one entry). -#}
{% macro period_snapshot_date(relation) -%}
    coalesce(
        (select max(snapshot_date) from {{ relation }} where snapshot_date <= {{ period_last_day() }}),
        (select max(snapshot_date) from {{ relation }})
    )
{%- endmacro %}
