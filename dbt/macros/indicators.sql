{#- Shared indicator rules of indicators.md ("Rules for all indicators"). -#}

{#- Timeliness (indicators marked T). Given start, end and limit (an interval), yields the
    numerator and denominator contributions of one item:
    finished -> in the denominator, in the numerator when end - start <= limit (inclusive),
                whenever it finished;
    unfinished -> late (denominator only) when start + limit < period end, else not counted. -#}
{% macro timeliness_numerator(start_col, end_col, limit_expr) -%}
    case when {{ end_col }} is not null and {{ end_col }} - {{ start_col }} <= {{ limit_expr }} then 1 else 0 end
{%- endmacro %}

{% macro timeliness_denominator(start_col, end_col, limit_expr) -%}
    case
        when {{ end_col }} is not null then 1
        when {{ start_col }} + {{ limit_expr }} < {{ period_end() }} then 1
        else 0
    end
{%- endmacro %}

{#- Items whose start falls in the period (half-open). -#}
{% macro in_period(column) -%}
    ({{ column }} >= {{ period_start() }} and {{ column }} < {{ period_end() }})
{%- endmacro %}

{#- Aggregate an `items` relation (city_code, numerator, denominator[, breakdown]) into the
    indicator grain: one row per city and one for the province (computed from the items,
    never averaged), plus breakdown rows when a breakdown column is named. Items with a NULL
    breakdown value count only in the rows without breakdown (no "breakdown = NULL" row).
    numerator_divisor / denominator_divisor divide the sums (not the items), so that e.g.
    sum(seconds) / 60 stays one exact numeric division and halves round like the catalogue's
    exact rational. -#}
{% macro rollup_indicator(code, items, breakdown_type=none, numerator_divisor=none, denominator_divisor=none) -%}
    select
        '{{ code }}'::text as indicator_code,
        case when grouping(city_code) = 0 then 'CITY' else 'PROVINCE' end as geo_level,
        city_code,
        {%- if breakdown_type %}
        case when grouping(breakdown) = 0 then '{{ breakdown_type }}' end as breakdown_type,
        breakdown,
        {%- else %}
        null::text as breakdown_type,
        null::text as breakdown,
        {%- endif %}
        sum(numerator)::numeric{% if numerator_divisor %} / {{ numerator_divisor }}{% endif %} as numerator,
        sum(denominator)::numeric{% if denominator_divisor %} / {{ denominator_divisor }}{% endif %} as denominator
    from {{ items }}
    {%- if breakdown_type %}
    group by grouping sets ((city_code), (), (city_code, breakdown), (breakdown))
    having grouping(breakdown) = 1 or breakdown is not null
    {%- else %}
    group by grouping sets ((city_code), ())
    {%- endif %}
{%- endmacro %}

{#- The limit of a timeliness indicator from the time_limits seed, for a condition value
    (e.g. area_type = 'URBAN'); '*' rows are the default. -#}
{% macro time_limit(code, value_expr="'*'") -%}
    (
        select make_interval(secs => l.limit_seconds)
        from {{ ref('time_limits') }} as l
        where l.indicator_code = '{{ code }}'
            and (l.condition_value = {{ value_expr }} or l.condition_value = '*')
        order by (l.condition_value = '*')
        limit 1
    )
{%- endmacro %}

{#- The monthly-average base of the rate indicators (FT_RATE, CP_RATE): denominator items of
    `column` of the bills relation per city over the period's six bill months (a missing
    month counts 0; numerator 0). The average is their sum / months_per_period(): pass
    denominator_divisor=months_per_period() to rollup_indicator for it, or keep the sum where
    the catalogue multiplies the average by 6 again (FT_RATE: per line and month). -#}
{% macro monthly_average_items(bills, column, condition=none) -%}
    select
        city_code,
        0 as numerator,
        coalesce({{ column }}, 0) as denominator
    from {{ bills }}
    where
        bill_month in {{ period_months() }}
        {%- if condition %}
        and {{ condition }}
        {%- endif %}
{%- endmacro %}

{% macro months_per_period() -%}
    6
{%- endmacro %}
