{#- Every area of the period's snapshot with the city its parent chain reaches
    (a city's areas are those whose parent chain reaches the city's code). -#}
with recursive

areas as (
    select
        area_code,
        area_name,
        level,
        parent_code
    from {{ ref('stg_crm__areas') }}
    where {{ period_snapshot_filter(ref('stg_crm__areas')) }}
),

chain as (
    select
        area_code,
        area_code as city_code
    from areas
    where level = 'CITY'
    union all
    select
        child.area_code,
        chain.city_code
    from areas as child
    inner join chain on child.parent_code = chain.area_code
),

final as (
    select
        areas.area_code,
        areas.area_name,
        areas.level,
        areas.parent_code,
        chain.city_code
    from areas
    left join chain on areas.area_code = chain.area_code
)

select * from final
