{#- One row per CRM satisfaction survey (CRM_SURVEY, score 0-10). -#}
with

surveys as (
    select * from {{ ref('stg_crm__surveys') }}
),

final as (
    select
        survey_id,
        customer_id,
        touchpoint,
        city_code,
        survey_time,
        score,
        coalesce(score >= 8, false) as is_satisfied
    from surveys
)

select * from final
