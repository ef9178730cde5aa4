{#- CR_SAT (by touchpoint too): CRM surveys of the period (by survey_time) scoring >= 8 of 10
    (a survey without score stays in the denominator). -#}
with

surveys as (
    select * from {{ ref('fct_surveys') }}
),

items as (
    select
        city_code,
        touchpoint as breakdown,
        case when is_satisfied then 1 else 0 end as numerator,
        1 as denominator
    from surveys
    where {{ in_period('survey_time') }}
)

{{ rollup_indicator('CR_SAT', 'items', breakdown_type='touchpoint') }}
