with

source as (
    select * from {{ source('raw', 'crm_survey') }}
),

deduplicated as (
    -- rows with the same business key count once; the latest delivery wins (later
    -- business day, then later load, then later record): it carries the latest state
    select distinct on (survey_id) *
    from source
    order by survey_id asc, _business_date desc nulls last, _load_id desc, _record_no desc
),

final as (
    select
        d.survey_id,
        d.customer_id,
        d.touchpoint,
        d.city_code,
        d.survey_time,
        d.score,
        d._load_id as load_id
    from deduplicated as d
)

select * from final
